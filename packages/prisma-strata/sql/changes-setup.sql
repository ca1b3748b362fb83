-- What `npx prisma-strata changes setup` does, for those who run SQL themselves (as a superuser, or the managed
-- provider's admin role), in the database the application uses. Names: the defaults of cache({ changes }).

-- 1. Must say `logical` (changing it needs a restart; see the README, "Writes from outside Prisma", for where
--    managed providers set it).
SHOW wal_level;

-- 2. The publication: every table, and a partitioned table's changes under its own name.
CREATE PUBLICATION strata FOR ALL TABLES WITH (publish_via_partition_root = true);

-- 3. The slot Strata follows. From now on the server keeps WAL until Strata confirms it: bound it with
--    max_slot_wal_keep_size, and drop the slot when you stop using `changes`:
--      SELECT pg_drop_replication_slot('strata'); DROP PUBLICATION strata;
SELECT pg_create_logical_replication_slot('strata', 'pgoutput');
