-- transactional: false
-- The tick's sweep of rows whose message is gone and GET /health's oldest unfinished row, without a
-- scan of the table. Built without blocking writes (CONCURRENTLY cannot run in a transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS notifications_unfinished ON notifications (queued_at)
    WHERE status IN ('queued', 'retrying');
