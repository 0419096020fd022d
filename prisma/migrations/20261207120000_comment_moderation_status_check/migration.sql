-- moderation_status is shown to the TST, the records clerks and in FOIA productions, and the API
-- describes it as one of these values (ModerationStatus in src/comments/schemas.ts). The database
-- now refuses any other value, whoever writes it, so a record can never hold a status its
-- readers cannot show. The values are those the policy (src/moderation/automatic.ts) and the
-- decisions (STATUS_AFTER in src/moderation/decisions.ts) write.
--
-- NOT VALID, as in 20261207060000: new rows are checked from now on and the lock is brief; the
-- next migration checks the rows already stored while ingestion goes on.
ALTER TABLE "comment" ADD CONSTRAINT "comment_moderation_status_is_known"
  CHECK ("moderation_status" IN ('unevaluated', 'allowed', 'flagged', 'removed', 'hidden', 'approved', 'restored', 'city')) NOT VALID;
