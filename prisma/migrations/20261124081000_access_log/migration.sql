-- Access log: every read of retained records by a person (DESIGN principle 7), src/audit/access-log.ts.

CREATE TABLE "access_log" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "actor" TEXT NOT NULL,
    "roles" TEXT[],
    "at" TIMESTAMPTZ(3) NOT NULL,
    "action" TEXT NOT NULL,
    "route" TEXT NOT NULL,
    "query" JSONB NOT NULL,
    "record_ids" UUID[],
    "count" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,
    CONSTRAINT "access_log_pkey" PRIMARY KEY ("id")
);
-- Newest first, stable under inserts: the keyset of GET /v1/audit/access.
CREATE UNIQUE INDEX "access_log_seq_key" ON "access_log"("seq");
CREATE INDEX "access_log_actor_seq_idx" ON "access_log"("actor", "seq");
CREATE INDEX "access_log_at_idx" ON "access_log"("at");
-- "Who has seen this record?": entries whose returned ids contain it.
CREATE INDEX "access_log_record_ids_idx" ON "access_log" USING GIN ("record_ids");

-- The trail of reads is evidence too: append-only, enforced by the database like the ledger.
DO $$
DECLARE t TEXT := 'access_log';
BEGIN
  EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
  EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
END
$$;

GRANT SELECT, INSERT ON "access_log" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "access_log_seq_seq" TO "townsquare_runtime";
