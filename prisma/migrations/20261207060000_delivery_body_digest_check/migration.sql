-- A delivery's body_sha256 is what deduplication finds it by, what the delivery detail route shows
-- the TST, and what a disposal record names a destroyed body by (docs/retention.md). The database
-- now refuses a row whose digest is not that of its body, whoever writes it. A disposed body is
-- NULL and keeps its digest. Checking costs one SHA-256 of each body on insert: about 10 µs for a
-- 50-comment Meta batch (17 KB), against about 10 ms of PostgreSQL's CPU to store it (docs/performance.md).
--
-- NOT VALID: new rows are checked from now on, and adding it takes its lock only for an instant.
-- The rows already archived are checked by the next migration, which lets ingestion go on meanwhile
-- (a rolling upgrade migrates while the old instances keep storing deliveries; docs/operations.md).
ALTER TABLE "webhook_delivery" ADD CONSTRAINT "webhook_delivery_body_sha256_is_body_digest"
  CHECK ("body" IS NULL OR "body_sha256" = encode(sha256("body"), 'hex')) NOT VALID;
