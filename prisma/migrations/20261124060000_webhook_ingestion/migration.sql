-- Webhook ingestion: the raw delivery archive, the comment projection and comment events.

CREATE TABLE "webhook_delivery" (
    "id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "body" BYTEA NOT NULL,
    "body_sha256" CHAR(64) NOT NULL,
    "headers" JSONB NOT NULL,
    "signature_variant" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "problems" JSONB,
    "event_count" INTEGER NOT NULL,
    "skipped" JSONB NOT NULL,
    CONSTRAINT "webhook_delivery_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "webhook_delivery_source_body_sha256_key" ON "webhook_delivery"("source", "body_sha256");
CREATE INDEX "webhook_delivery_received_at_idx" ON "webhook_delivery"("received_at");
CREATE INDEX "webhook_delivery_outcome_received_at_idx" ON "webhook_delivery"("outcome", "received_at");

CREATE TABLE "comment" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "platform" TEXT NOT NULL,
    "account" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "post_id" TEXT,
    "parent_external_id" TEXT,
    "parent_id" UUID,
    "author_id" TEXT,
    "author_name" TEXT,
    "author_email" TEXT,
    "by_city" BOOLEAN NOT NULL,
    "status" TEXT NOT NULL,
    "current_text" TEXT,
    "version_count" INTEGER NOT NULL,
    "first_platform_at" TIMESTAMPTZ(3) NOT NULL,
    "last_platform_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "comment_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "comment_platform_external_id_key" ON "comment"("platform", "external_id");
CREATE INDEX "comment_platform_last_platform_at_idx" ON "comment"("platform", "last_platform_at");
CREATE INDEX "comment_post_id_idx" ON "comment"("post_id");
CREATE INDEX "comment_author_id_idx" ON "comment"("author_id");
CREATE INDEX "comment_status_idx" ON "comment"("status");
ALTER TABLE "comment" ADD CONSTRAINT "comment_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "comment"("id") ON DELETE SET NULL ON UPDATE CASCADE;

CREATE TABLE "comment_event" (
    "id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "platform_time" TIMESTAMPTZ(3) NOT NULL,
    "text" TEXT,
    "event_key" TEXT NOT NULL,
    "delivery_id" UUID NOT NULL,
    "ledger_entry_id" UUID NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "comment_event_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "comment_event_comment_id_event_key_key" ON "comment_event"("comment_id", "event_key");
CREATE INDEX "comment_event_comment_id_platform_time_idx" ON "comment_event"("comment_id", "platform_time");
ALTER TABLE "comment_event" ADD CONSTRAINT "comment_event_comment_id_fkey" FOREIGN KEY ("comment_id") REFERENCES "comment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "comment_event" ADD CONSTRAINT "comment_event_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_delivery"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- What platforms sent and what happened to each comment are evidence: append-only, like the ledger.
-- The message no longer says "ledger table": the same guard now protects these tables too.
CREATE OR REPLACE FUNCTION "ledger_reject_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table "%" is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Records are evidence; append a new entry (for example a disposal) instead.';
END
$$;

DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['webhook_delivery', 'comment_event'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT ON "webhook_delivery", "comment_event" TO "townsquare_runtime";
-- The projection is rewritten as events arrive; it can be rebuilt from comment_event.
GRANT SELECT, INSERT, UPDATE ON "comment" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "comment_seq_seq" TO "townsquare_runtime";
