-- When a notification last entered `queued` or `retrying`, that is, when the message that carries it
-- was queued. The tick takes back a row left there longer than its queue's whole receive schedule:
-- its message is gone (dead-lettered while the database was down, or lost). Rows that exist already
-- take the migration's time (now() is computed once: the table is not rewritten).
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS queued_at timestamptz NOT NULL DEFAULT now();

-- One place keeps it true, whatever statement moves a row back to a queue.
CREATE OR REPLACE FUNCTION notifications_note_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.queued_at := now();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS notifications_queued_at ON notifications;
CREATE TRIGGER notifications_queued_at
    BEFORE UPDATE OF status ON notifications
    FOR EACH ROW
    WHEN (NEW.status IN ('queued', 'retrying') AND NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION notifications_note_queued();
