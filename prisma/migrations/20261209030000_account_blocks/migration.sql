-- Blocks and bans of accounts on the city's pages are records (docs/moderation.md, "Blocks and
-- bans"): Illinois' Public Access Counselor has treated a city's list of blocked users as a public
-- record. One row per block or unblock, never changed or removed (the owner included); the latest
-- row of a (platform, account, author) decides whether the author is blocked now. Each row's
-- ledger entry (`account.block` / `account.unblock`) carries the same facts.
CREATE TABLE "account_block_action" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "platform" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "author_id" TEXT NOT NULL,
    "author_name" TEXT,
    "action" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "policy_version_id" UUID,
    "rule_codes" TEXT[],
    "reason" TEXT NOT NULL,
    "comment_id" UUID,
    "platform_request" JSONB,
    "actor" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL,
    "ledger_entry_id" UUID NOT NULL,
    CONSTRAINT "account_block_action_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "account_block_action_action_check" CHECK ("action" IN ('block', 'unblock')),
    CONSTRAINT "account_block_action_method_check" CHECK ("method" IN ('api', 'manual')),
    -- A block names the rule it enforces; an unblock may not.
    CONSTRAINT "account_block_action_rules_check" CHECK ("action" = 'unblock' OR cardinality(COALESCE("rule_codes", ARRAY[]::TEXT[])) > 0),
    CONSTRAINT "account_block_action_occurred_check" CHECK ("occurred_at" <= "recorded_at")
);
CREATE UNIQUE INDEX "account_block_action_id_key" ON "account_block_action"("id");
CREATE INDEX "account_block_action_platform_account_author_id_seq_idx" ON "account_block_action"("platform", "account", "author_id", "seq");

CREATE TRIGGER "account_block_action_no_change" BEFORE UPDATE OR DELETE ON "account_block_action" FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER "account_block_action_no_truncate" BEFORE TRUNCATE ON "account_block_action" FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

GRANT SELECT, INSERT ON "account_block_action" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "account_block_action_seq_seq" TO "townsquare_runtime";
