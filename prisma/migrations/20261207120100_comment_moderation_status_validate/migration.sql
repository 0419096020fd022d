-- Checks every comment stored before 20261207120000. Its own transaction, so the scan holds only a
-- SHARE UPDATE EXCLUSIVE lock and comments keep being stored. A row that failed would stop the
-- migration, naming the constraint; /readyz stays 503 until it is repaired (docs/operations.md).
ALTER TABLE "comment" VALIDATE CONSTRAINT "comment_moderation_status_is_known";
