-- Issue 25: notices by what was done, staff acting on platform actions, appeal outcomes sent to authors.

-- The exact text a notice delivery sends (null for delete, hide, unhide): on X and LinkedIn a short
-- public reply differs from the decision's full notice, and an appeal's outcome is not the decision's.
ALTER TABLE "platform_action" ADD COLUMN "text" TEXT,
    -- The appeal whose outcome this delivery carries (null: the decision's own notice).
    ADD COLUMN "appeal_id" UUID,
    -- Marked resolved by hand (status 'resolved'): who, and why.
    ADD COLUMN "resolved_by" TEXT,
    ADD COLUMN "resolution" TEXT;

-- How the notice reached the author, per channel, as decided when the decision was recorded
-- (docs/moderation.md, "Notice channels"); the ledger entry of the decision carries the same.
ALTER TABLE "moderation_decision" ADD COLUMN "notice_delivery" JSONB;

-- The outcome notice of a decided appeal, published under the reference and sent to the author.
ALTER TABLE "appeal" ADD COLUMN "outcome_text" TEXT,
    ADD COLUMN "outcome_delivery" JSONB;

CREATE INDEX "platform_action_appeal_id_idx" ON "platform_action"("appeal_id");
