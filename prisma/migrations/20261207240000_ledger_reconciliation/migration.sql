-- Reconciliation of the comment projections against the ledger (src/records/reconcile.ts,
-- docs/ledger.md "Reconciliation"): one row per run, written by the scheduled job or a request.
-- It holds ids, field names and state values only, never record content.

CREATE TABLE "ledger_reconciliation" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "trigger" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "ok" BOOLEAN NOT NULL,
    "comments_checked" INTEGER NOT NULL,
    "events_checked" INTEGER NOT NULL,
    "entries_checked" INTEGER NOT NULL,
    "disposed_comments" INTEGER NOT NULL,
    "divergent_comments" INTEGER NOT NULL,
    "divergence_count" INTEGER NOT NULL,
    "divergences" JSONB NOT NULL,
    CONSTRAINT "ledger_reconciliation_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ledger_reconciliation_trigger_check" CHECK ("trigger" IN ('schedule', 'request', 'command'))
);
-- The latest run: GET /v1/ledger/status.
CREATE UNIQUE INDEX "ledger_reconciliation_seq_key" ON "ledger_reconciliation"("seq");

-- A run's result is evidence of what the projections looked like: append-only, like the access log.
DO $$
DECLARE t TEXT := 'ledger_reconciliation';
BEGIN
  EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
  EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
END
$$;

GRANT SELECT, INSERT ON "ledger_reconciliation" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "ledger_reconciliation_seq_seq" TO "townsquare_runtime";
