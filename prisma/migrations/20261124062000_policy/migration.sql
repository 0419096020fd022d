-- Comment policy: policies and versions, automatic evaluations, moderation decisions, review items.

ALTER TABLE "comment" ADD COLUMN "moderation_status" TEXT NOT NULL DEFAULT 'unevaluated';
CREATE INDEX "comment_moderation_status_idx" ON "comment"("moderation_status");

CREATE TABLE "policy" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    CONSTRAINT "policy_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "policy_name_key" ON "policy"("name");

CREATE TABLE "policy_version" (
    "id" UUID NOT NULL,
    "policy_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "content" JSONB NOT NULL,
    "effective_from" TIMESTAMPTZ(3),
    "published_at" TIMESTAMPTZ(3),
    "published_by" TEXT,
    "ledger_entry_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "policy_version_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "policy_version_status_check" CHECK ("status" IN ('draft', 'published')),
    CONSTRAINT "policy_version_published_check" CHECK ("status" = 'draft' OR ("effective_from" IS NOT NULL AND "published_at" IS NOT NULL AND "ledger_entry_id" IS NOT NULL))
);
CREATE UNIQUE INDEX "policy_version_policy_id_version_key" ON "policy_version"("policy_id", "version");
CREATE INDEX "policy_version_status_effective_from_idx" ON "policy_version"("status", "effective_from");
-- Exactly one version is in force at any moment: no two published versions take effect together.
CREATE UNIQUE INDEX "policy_version_one_effective_from" ON "policy_version"("effective_from") WHERE "status" = 'published';
ALTER TABLE "policy_version" ADD CONSTRAINT "policy_version_policy_id_fkey" FOREIGN KEY ("policy_id") REFERENCES "policy"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A published version is frozen forever: decisions cite its exact wording.
CREATE FUNCTION "policy_version_frozen"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'published' THEN
    RAISE EXCEPTION 'policy version % of policy % is published and cannot be changed', OLD.version, OLD.policy_id
      USING ERRCODE = 'insufficient_privilege', HINT = 'Create a new version instead.';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER "policy_version_no_change_when_published" BEFORE UPDATE OR DELETE ON "policy_version"
  FOR EACH ROW EXECUTE FUNCTION "policy_version_frozen"();

CREATE TABLE "comment_evaluation" (
    "event_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "policy_version_id" UUID NOT NULL,
    "outcome" TEXT NOT NULL,
    "matches" JSONB NOT NULL,
    "evaluated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "comment_evaluation_pkey" PRIMARY KEY ("event_id")
);
CREATE INDEX "comment_evaluation_comment_id_idx" ON "comment_evaluation"("comment_id");
CREATE INDEX "comment_evaluation_policy_version_id_outcome_idx" ON "comment_evaluation"("policy_version_id", "outcome");

CREATE TABLE "moderation_decision" (
    "id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "policy_version_id" UUID,
    "actor" TEXT NOT NULL,
    "automatic" BOOLEAN NOT NULL,
    "action" TEXT NOT NULL,
    "rule_codes" TEXT[],
    "evidence" JSONB NOT NULL,
    "note" TEXT,
    "notice_text" TEXT,
    "ledger_entry_id" UUID NOT NULL,
    "decided_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "moderation_decision_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "moderation_decision_comment_id_decided_at_idx" ON "moderation_decision"("comment_id", "decided_at");
CREATE INDEX "moderation_decision_decided_at_idx" ON "moderation_decision"("decided_at");

CREATE TABLE "review_item" (
    "id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "event_id" UUID NOT NULL,
    "policy_version_id" UUID NOT NULL,
    "rule_codes" TEXT[],
    "evidence" JSONB NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "closed_at" TIMESTAMPTZ(3),
    CONSTRAINT "review_item_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "review_item_status_created_at_idx" ON "review_item"("status", "created_at");
CREATE INDEX "review_item_comment_id_idx" ON "review_item"("comment_id");
-- One open review per comment: a newer flagged version joins the open item.
CREATE UNIQUE INDEX "review_item_one_open_per_comment" ON "review_item"("comment_id") WHERE "status" = 'open';

DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['comment_evaluation', 'moderation_decision'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON "policy", "policy_version", "review_item" TO "townsquare_runtime";
GRANT SELECT, INSERT ON "comment_evaluation", "moderation_decision" TO "townsquare_runtime";
