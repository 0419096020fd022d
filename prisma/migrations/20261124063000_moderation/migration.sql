-- Moderation by the TST: claims on review items, platform actions carried out by jobs, appeals.

ALTER TABLE "review_item" ADD COLUMN "reason" TEXT NOT NULL DEFAULT 'flagged',
    ADD COLUMN "claimed_by" TEXT,
    ADD COLUMN "claim_expires_at" TIMESTAMPTZ(3),
    ALTER COLUMN "policy_version_id" DROP NOT NULL;

ALTER TABLE "review_item" ADD CONSTRAINT "review_item_comment_id_fkey" FOREIGN KEY ("comment_id") REFERENCES "comment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

ALTER TABLE "moderation_decision" ADD COLUMN "platform_action" TEXT NOT NULL DEFAULT 'none';

CREATE TABLE "platform_action" (
    "id" UUID NOT NULL,
    "decision_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "platform" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),
    CONSTRAINT "platform_action_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "platform_action_decision_id_idx" ON "platform_action"("decision_id");
CREATE INDEX "platform_action_status_created_at_idx" ON "platform_action"("status", "created_at");

CREATE TABLE "appeal" (
    "id" UUID NOT NULL,
    "decision_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "contact" TEXT NOT NULL,
    "statement" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "filed_at" TIMESTAMPTZ(3) NOT NULL,
    "filed_entry_id" UUID NOT NULL,
    "decided_at" TIMESTAMPTZ(3),
    "decided_by" TEXT,
    "reason" TEXT,
    "decided_entry_id" UUID,
    "reversal_decision_id" UUID,
    CONSTRAINT "appeal_pkey" PRIMARY KEY ("id")
);
-- One appeal per decision.
CREATE UNIQUE INDEX "appeal_decision_id_key" ON "appeal"("decision_id");
CREATE INDEX "appeal_status_filed_at_idx" ON "appeal"("status", "filed_at");

GRANT SELECT, INSERT, UPDATE ON "platform_action", "appeal" TO "townsquare_runtime";
