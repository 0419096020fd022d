-- Checks every delivery archived before 20261207060000 against its digest. A separate migration
-- (its own transaction), so this scan holds only a SHARE UPDATE EXCLUSIVE lock: deliveries keep
-- being stored while it reads and hashes the whole archive. A row that failed would stop the
-- migration, naming the constraint; /readyz stays 503 until it is repaired (docs/operations.md).
ALTER TABLE "webhook_delivery" VALIDATE CONSTRAINT "webhook_delivery_body_sha256_is_body_digest";
