-- Workflow runs (notify.workflows.runs).
-- A notification is made by one send step of its event's workflow, and two steps may send on one
-- channel: a row is keyed by its step too (the index of the send step in the version's steps). Rows
-- made before workflows had steps are step 0. Each row has a stable id, carried by its queue message,
-- its push payload and the notification view. The id's default fills the rows already there: the table
-- is rewritten once, under its lock (senders retry meanwhile; nothing is lost).
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS step smallint NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS notification_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE notifications DROP CONSTRAINT IF EXISTS notifications_pkey;
ALTER TABLE notifications ADD CONSTRAINT notifications_pkey PRIMARY KEY (event_id, channel, user_id, step);
CREATE UNIQUE INDEX IF NOT EXISTS notifications_by_id ON notifications (notification_id);
-- Engagement, first seen: only ever set once, never cleared (the open pixel, a tracked click, what the
-- app reports of a push).
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS opened_at timestamptz;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS clicked_at timestamptz;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS read_at timestamptz;

-- An event whose workflow has delays, waits, conditions or fallbacks has a run per recipient: where it
-- stands (the next step, since when its delay or wait runs, the channel a first-that-works send tried),
-- when the tick should look at it again, and what it did (steps taken, skipped with why). Only those
-- events have runs (events.runs): a workflow whose sends all go out at once has rows and no run.
ALTER TABLE events ADD COLUMN IF NOT EXISTS runs boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS workflow_runs (
    event_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    position   smallint NOT NULL DEFAULT 0,
    since      timestamptz,
    trying     smallint,
    waits_on   smallint,  -- the send step whose outcome the run waits for (a wait's, or a try's): it wakes it
    state      text NOT NULL DEFAULT 'waiting',  -- waiting, done, cancelled
    wake_at    timestamptz,
    history    jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, user_id)
);
-- The tick reads only the runs that are due: its cost follows them, not the runs waiting.
CREATE INDEX IF NOT EXISTS workflow_runs_due ON workflow_runs (wake_at) WHERE state = 'waiting';
