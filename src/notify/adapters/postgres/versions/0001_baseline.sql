-- The schema as it stood when migrations began (it was applied at every cold start until then).
-- Every statement is idempotent, so a database that an older release set up takes this migration
-- as a no-op: only yoyo's record of it is new.

CREATE TABLE IF NOT EXISTS directory_users (
    user_id     uuid PRIMARY KEY,
    first_name  text,
    last_name   text,
    email       text,
    phone       text,
    push_token  text,
    birthday    date,
    locale      text NOT NULL DEFAULT 'en',
    timezone    text NOT NULL DEFAULT 'UTC',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS directory_movies (
    movie_id     uuid PRIMARY KEY,
    title        text NOT NULL,
    season       integer,
    episode      integer,
    release_date date,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS schedules (
    schedule_id  uuid PRIMARY KEY,
    event_type   text NOT NULL,
    priority     smallint NOT NULL,
    cron         text,
    timezone     text NOT NULL DEFAULT 'UTC',
    start_dt     timestamptz,
    user_ids     text[] NOT NULL,
    content_ids  uuid[] NOT NULL,
    state        text NOT NULL DEFAULT 'active',
    next_run_at  timestamptz,
    last_run_at  timestamptz,
    runs         integer NOT NULL DEFAULT 0,
    skipped_runs integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- The tick reads only what is due: its cost follows the due schedules, not the stored ones.
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_run_at) WHERE state = 'active';

CREATE TABLE IF NOT EXISTS events (
    event_id         uuid PRIMARY KEY,
    event_type       text NOT NULL,
    created_dt       timestamptz NOT NULL,
    priority         smallint NOT NULL,
    status           text NOT NULL,
    schedule_id      uuid REFERENCES schedules (schedule_id) ON DELETE SET NULL,
    content          jsonb NOT NULL,
    recipients       integer NOT NULL DEFAULT 0,
    notifications    integer NOT NULL DEFAULT 0,
    skipped_users    text[] NOT NULL DEFAULT '{}',
    idempotency_key  text UNIQUE,
    request_hash     text,
    occurrence_key   text UNIQUE,
    next_run_at      timestamptz,  -- as answered when the event was accepted (idempotent replays)
    received_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS next_run_at timestamptz;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS runs integer NOT NULL DEFAULT 0;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS skipped_runs integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS events_by_schedule ON events (schedule_id, created_dt DESC)
    WHERE schedule_id IS NOT NULL;
-- An event to an audience (a topic) is fanned out in steps (fan_out.py): its members as of the cutoff, in
-- user id order, the cursor the last member done. fan_out_complete is NULL for an event to a list of users.
ALTER TABLE events ADD COLUMN IF NOT EXISTS audience text;
ALTER TABLE events ADD COLUMN IF NOT EXISTS fan_out_cutoff timestamptz;
ALTER TABLE events ADD COLUMN IF NOT EXISTS fan_out_after uuid;
ALTER TABLE events ADD COLUMN IF NOT EXISTS fan_out_done integer;
ALTER TABLE events ADD COLUMN IF NOT EXISTS fan_out_complete boolean;
CREATE INDEX IF NOT EXISTS events_fanning_out ON events (received_at) WHERE fan_out_complete = false;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS audience text;

-- One row per recipient and channel. No foreign key to events: 100,000-row fan-outs
-- would pay a trigger per row, and rows are only ever written together with their event.
CREATE TABLE IF NOT EXISTS notifications (
    event_id             uuid NOT NULL,
    channel              text NOT NULL,
    user_id              uuid NOT NULL,
    status               text NOT NULL DEFAULT 'queued',
    reason               text,
    attempts             integer NOT NULL DEFAULT 0,
    claimed_until        timestamptz,
    sent_at              timestamptz,
    provider_message_id  text,
    error                text,
    deliver_after        timestamptz,  -- deferred (quiet hours) or held (digest window) until
    digest_count         integer,      -- set on a digest: how many notifications it stands for
    digested_into        uuid,         -- on a notification folded into a digest: the digest's event
    PRIMARY KEY (event_id, channel, user_id)
);
-- Existing databases get the recipient-control columns too.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS deliver_after timestamptz;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS digest_count integer;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS digested_into uuid;
-- The attempt that holds a row while it is `sending`: every outcome write names it.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS claim_token uuid;
-- The tick's sweep of rows whose holder died and whose message is gone.
CREATE INDEX IF NOT EXISTS notifications_sending ON notifications (claimed_until)
    WHERE status = 'sending';
-- The tick's look-ups: what is waiting and due, and an open digest window per recipient.
CREATE INDEX IF NOT EXISTS notifications_waiting ON notifications (deliver_after)
    WHERE status IN ('deferred', 'held');
CREATE INDEX IF NOT EXISTS notifications_held ON notifications (user_id, channel)
    WHERE status = 'held';
-- When the recipient controls last held the row back (a verdict other than send: skipped, expired,
-- deferred, held); rows held back before the column existed have none.
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS screened_at timestamptz;
-- GET /stats reads a window of sends (by sent_at) and of suppressed rows (by screened_at): its cost
-- follows the rows in the window, not the table.
CREATE INDEX IF NOT EXISTS notifications_sent_at ON notifications (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS notifications_suppressed ON notifications (screened_at)
    WHERE status = 'skipped' AND reason = 'suppressed';

-- A recipient's choices; no row means the defaults (everything on, default quiet hours).
CREATE TABLE IF NOT EXISTS user_preferences (
    user_id     uuid PRIMARY KEY,
    document    jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Sends counted against frequency caps (only for capped event types and channels).
CREATE TABLE IF NOT EXISTS frequency_reservations (
    user_id      uuid NOT NULL,
    event_type   text NOT NULL,
    channel      text NOT NULL,
    reserved_at  timestamptz NOT NULL
);
ALTER TABLE frequency_reservations ADD COLUMN IF NOT EXISTS event_id uuid;
CREATE INDEX IF NOT EXISTS frequency_reservations_by_user
    ON frequency_reservations (user_id, event_type, channel, reserved_at);
-- One reservation per notification: a retried send reuses it instead of taking another slot.
CREATE UNIQUE INDEX IF NOT EXISTS frequency_reservations_once
    ON frequency_reservations (user_id, channel, event_id);

-- Messages stored with their event and published after commit; the tick re-publishes
-- whatever a crash or a broker outage left behind.
CREATE TABLE IF NOT EXISTS outbox (
    message_id    uuid PRIMARY KEY,
    queue         text NOT NULL,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    claimed_until timestamptz,
    published_at  timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (created_at) WHERE published_at IS NULL;
-- A message the broker refused for good (too large, unroutable) is parked with the broker's error:
-- the relay never claims it again; an operator sees it (GET /health, the tick's report) and
-- decides (fix and clear parked_at, or delete it).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS parked_at timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS error text;
CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (parked_at) WHERE parked_at IS NOT NULL;
-- Message bodies are large, repetitive JSON: lz4 compresses them several times faster than
-- the default pglz. Kept as is where the server has no lz4 (or no per-column compression).
DO $$
BEGIN
    IF (SELECT attcompression FROM pg_attribute
        WHERE attrelid = 'outbox'::regclass AND attname = 'body') IS DISTINCT FROM 'l' THEN
        ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
EXCEPTION WHEN feature_not_supported OR undefined_column OR syntax_error THEN
    NULL;
END
$$;

-- API keys: the secret is never stored, only its SHA-256 (see notify/keys.py).
CREATE TABLE IF NOT EXISTS api_keys (
    key_id          text PRIMARY KEY,
    name            text NOT NULL,
    scopes          text[] NOT NULL,
    rate_per_minute integer CHECK (rate_per_minute IS NULL OR rate_per_minute >= 1),
    created_at      timestamptz NOT NULL,
    secret_hash     text NOT NULL,
    last_used_at    timestamptz,
    revoked_at      timestamptz
);
-- The requests each key had answered in the last minute (its rate limit counts them; older ones are
-- deleted as the key is used).
CREATE TABLE IF NOT EXISTS api_key_hits (
    key_id text NOT NULL REFERENCES api_keys (key_id) ON DELETE CASCADE,
    at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS api_key_hits_by_key ON api_key_hits (key_id, at);

-- What providers said of sent messages (SES event publishing: delivery, bounce, complaint, reject),
-- one row per message, kind and address: a copy delivered twice is stored once. Kept, so that feedback
-- that arrives before its send was recorded still applies when it is (see feedback.py).
CREATE TABLE IF NOT EXISTS delivery_feedback (
    provider_message_id text NOT NULL,
    kind                text NOT NULL,
    address             text NOT NULL,
    reason              text,
    diagnostic          text,
    occurred_at         timestamptz,
    received_at         timestamptz NOT NULL,
    PRIMARY KEY (provider_message_id, kind, address)
);
CREATE INDEX IF NOT EXISTS delivery_feedback_soft_bounces ON delivery_feedback (address, received_at)
    WHERE reason = 'soft_bounce';
CREATE INDEX IF NOT EXISTS notifications_by_provider_id ON notifications (provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- Addresses no message goes to, per channel (a hard bounce, a complaint, repeated soft bounces, an
-- operator). Addresses are kept as the directory holds them, e-mail in lower case.
CREATE TABLE IF NOT EXISTS suppressions (
    channel    text NOT NULL,
    address    text NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (channel, address)
);

-- Work the tick does now and then, not every minute (the carrier's SMS opt-outs, hourly): when each last
-- ran, and until when the tick running it holds it, so that concurrent ticks run it once (syncs.py).
CREATE TABLE IF NOT EXISTS periodic_syncs (
    name          text PRIMARY KEY,
    last_run_at   timestamptz,
    claimed_until timestamptz
);

-- The SNS platform endpoint made for each push token, reused on every later send (creating it again
-- with changed attributes is refused, and it costs a call per send).
CREATE TABLE IF NOT EXISTS push_endpoints (
    token      text PRIMARY KEY,
    endpoint   text NOT NULL,
    created_at timestamptz NOT NULL
);

-- Topics: named sets of users an event can go to (payload.audience), each with its count kept by the
-- transactions that change its subscribers. `all` (every directory user) is built in, never stored.
CREATE TABLE IF NOT EXISTS topics (
    topic       text PRIMARY KEY,
    description text,
    subscribers integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- No foreign key to directory_users: a bulk subscribe of 100,000 ids would pay a check per row, and the
-- fan-out joins the directory anyway.
CREATE TABLE IF NOT EXISTS topic_subscribers (
    topic         text NOT NULL REFERENCES topics ON DELETE CASCADE,
    user_id       uuid NOT NULL,
    subscribed_at timestamptz NOT NULL,
    PRIMARY KEY (topic, user_id)
);
-- When a user joined the directory: an event to `all` reaches those who were there when it was accepted.
ALTER TABLE directory_users ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
