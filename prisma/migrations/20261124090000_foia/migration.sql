-- FOIA requests (5 ILCS 140), the records attached to them, redactions of the produced copies and
-- the productions themselves (docs/foia.md).

CREATE TABLE "foia_request" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "requester_name" TEXT NOT NULL,
    "requester_contact" TEXT,
    "description" TEXT NOT NULL,
    "commercial" BOOLEAN NOT NULL,
    "received_on" DATE NOT NULL,
    "original_due_on" DATE NOT NULL,
    "due_on" DATE NOT NULL,
    "status" TEXT NOT NULL,
    "extension_reason" TEXT,
    "extension_note" TEXT,
    "extended_at" TIMESTAMPTZ(3),
    "extended_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    CONSTRAINT "foia_request_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "foia_request_status_due_on_idx" ON "foia_request"("status", "due_on");
CREATE INDEX "foia_request_due_on_seq_idx" ON "foia_request"("due_on", "seq");

CREATE TABLE "foia_request_status" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "request_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "by" TEXT NOT NULL,
    "note" TEXT,
    CONSTRAINT "foia_request_status_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "foia_request_status_request_id_seq_idx" ON "foia_request_status"("request_id", "seq");
ALTER TABLE "foia_request_status" ADD CONSTRAINT "foia_request_status_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "foia_search" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "query" JSONB NOT NULL,
    "run_at" TIMESTAMPTZ(3) NOT NULL,
    "run_by" TEXT NOT NULL,
    "rerun_of" UUID,
    CONSTRAINT "foia_search_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "foia_search_request_id_run_at_idx" ON "foia_search"("request_id", "run_at");
ALTER TABLE "foia_search" ADD CONSTRAINT "foia_search_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "foia_search_result" (
    "search_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    CONSTRAINT "foia_search_result_pkey" PRIMARY KEY ("search_id", "comment_id")
);
ALTER TABLE "foia_search_result" ADD CONSTRAINT "foia_search_result_search_id_fkey" FOREIGN KEY ("search_id") REFERENCES "foia_search"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "foia_request_record" (
    "request_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "search_id" UUID,
    "attached_at" TIMESTAMPTZ(3) NOT NULL,
    "attached_by" TEXT NOT NULL,
    CONSTRAINT "foia_request_record_pkey" PRIMARY KEY ("request_id", "comment_id")
);
ALTER TABLE "foia_request_record" ADD CONSTRAINT "foia_request_record_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "foia_request_record" ADD CONSTRAINT "foia_request_record_comment_id_fkey" FOREIGN KEY ("comment_id") REFERENCES "comment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "foia_redaction" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "entry_id" UUID NOT NULL,
    "path" TEXT NOT NULL,
    "start" INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    "category" TEXT NOT NULL,
    "citation" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "nonce" BYTEA NOT NULL,
    "note" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    "decided_at" TIMESTAMPTZ(3),
    "decided_by" TEXT,
    CONSTRAINT "foia_redaction_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "foia_redaction_request_id_entry_id_path_start_end_key" ON "foia_redaction"("request_id", "entry_id", "path", "start", "end");
CREATE INDEX "foia_redaction_request_id_status_idx" ON "foia_redaction"("request_id", "status");
ALTER TABLE "foia_redaction" ADD CONSTRAINT "foia_redaction_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "foia_production" (
    "id" UUID NOT NULL,
    "request_id" UUID NOT NULL,
    "format" TEXT NOT NULL,
    "file_name" TEXT NOT NULL,
    "archive_bytes" BIGINT NOT NULL,
    "archive_sha256" CHAR(64) NOT NULL,
    "manifest_sha256" CHAR(64) NOT NULL,
    "tree_size" BIGINT NOT NULL,
    "records" INTEGER NOT NULL,
    "entries" INTEGER NOT NULL,
    "redactions" INTEGER NOT NULL,
    "ledger_entry_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    CONSTRAINT "foia_production_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "foia_production_request_id_created_at_idx" ON "foia_production"("request_id", "created_at");
ALTER TABLE "foia_production" ADD CONSTRAINT "foia_production_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A request's history, the searches kept with it and what each matched, and what was produced are
-- the record of how the city answered: append-only, like the ledger.
DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['foia_request_status', 'foia_search', 'foia_search_result', 'foia_production'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON "foia_request", "foia_redaction" TO "townsquare_runtime";
GRANT SELECT, INSERT ON "foia_request_status", "foia_search", "foia_search_result", "foia_request_record", "foia_production" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "foia_request_seq_seq", "foia_request_status_seq_seq" TO "townsquare_runtime";
