-- Replies waiting for their parent: linking them when the parent arrives must not scan every comment.
CREATE INDEX "comment_waiting_for_parent_idx" ON "comment"("platform", "parent_external_id")
  WHERE "parent_id" IS NULL AND "parent_external_id" IS NOT NULL;
