-- Appeals belong to the author: the notice of a removal or hide carries a reference only the author
-- was given (src/moderation/appeal-reference.ts), and only that reference files the appeal.
-- The table keeps the SHA-256 of the reference, never the reference: a lookup is by digest, and the
-- primary key on it means a reference is never given twice. Rows are never changed or removed (a
-- reference is never reused), for the owner too.
CREATE TABLE "appeal_reference" (
    "reference_sha256" BYTEA NOT NULL,
    "decision_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "appeal_reference_pkey" PRIMARY KEY ("reference_sha256"),
    CONSTRAINT "appeal_reference_sha256_length" CHECK (octet_length("reference_sha256") = 32)
);
-- One reference per decision.
CREATE UNIQUE INDEX "appeal_reference_decision_id_key" ON "appeal_reference"("decision_id");
ALTER TABLE "appeal_reference" ADD CONSTRAINT "appeal_reference_decision_id_fkey" FOREIGN KEY ("decision_id") REFERENCES "moderation_decision"("id") ON DELETE RESTRICT ON UPDATE RESTRICT;

CREATE TRIGGER "appeal_reference_no_change" BEFORE UPDATE OR DELETE ON "appeal_reference" FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER "appeal_reference_no_truncate" BEFORE TRUNCATE ON "appeal_reference" FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

GRANT SELECT, INSERT ON "appeal_reference" TO "townsquare_runtime";
