-- The barbershop shape (herald-bench rest --shape skewed): one location holding a million location-wide
-- notifications, no broadcasts, and fifty users with ten personal notifications each. Every member reads through
-- the one audience that holds nearly the whole table, and PostgreSQL's statistics see only 51 audiences.
-- Run against a migrated database: psql -v ON_ERROR_STOP=1 -f Benchmarks/seed-skewed.sql
INSERT INTO notifications (type, title, message, location_id, publisher, created_at)
SELECT 'booking', 'seed ' || n, 'benchmark inbox', 'shop', 'seed', now() - make_interval(secs => 2000000 - n)
FROM generate_series(1, 1000000) AS n;
INSERT INTO notifications (type, title, message, user_id, publisher)
SELECT 'system', 'personal ' || n, 'benchmark inbox', 'member-' || (n % 50), 'seed'
FROM generate_series(1, 500) AS n;
-- Vacuumed and checkpointed before measuring, as seed.sql is.
VACUUM ANALYZE;
CHECKPOINT;
