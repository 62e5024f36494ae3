-- The REST scenario's inbox (herald-bench rest): one user with a million personal notifications (or
-- `-v inbox_size=N`, for the sweep by inbox size), half of them read, plus a million notifications of other users
-- around them, so the indexes are realistic. Run against a migrated database:
-- psql -v ON_ERROR_STOP=1 [-v inbox_size=N] -f Benchmarks/seed.sql
\if :{?inbox_size}
\else
\set inbox_size 1000000
\endif
INSERT INTO notifications (type, title, message, user_id, publisher, created_at, read_at)
SELECT 'system', 'seed ' || n, 'benchmark inbox', 'rest-user', 'seed',
       now() - make_interval(secs => 2000000 - n), CASE WHEN n % 2 = 0 THEN now() END
FROM generate_series(1, :inbox_size) AS n;
INSERT INTO notifications (type, title, message, user_id, publisher)
SELECT 'system', 'other ' || n, 'benchmark inbox', 'other-' || (n % 10000), 'seed'
FROM generate_series(1, 1000000) AS n;
-- Vacuumed and checkpointed before measuring, so that neither autovacuum reaching these two million fresh rows
-- (and the counter rows the triggers wrote) nor the flush of their pages falls inside a run.
VACUUM ANALYZE;
CHECKPOINT;
