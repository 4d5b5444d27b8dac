-- transactional: false
-- The tick's retention (notify.retention) finds old rows by these, a batch at a time, without a scan of
-- the tables. Built without blocking writes (CONCURRENTLY cannot run in a transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_published_at ON outbox (published_at)
    WHERE published_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_received_at ON events (received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS delivery_feedback_received_at ON delivery_feedback (received_at);
