-- GET /events/{id} answers its counts by status from here: recounted from the event's rows at most once
-- per few seconds, by one request at a time (a transaction-level advisory lock), however many poll. A
-- counter per sender batch would make every sender of a large event lock this one row.
CREATE TABLE IF NOT EXISTS event_status_counts (
    event_id     uuid PRIMARY KEY REFERENCES events (event_id) ON DELETE CASCADE,
    counts       jsonb NOT NULL,
    counted_at   timestamptz NOT NULL
);
