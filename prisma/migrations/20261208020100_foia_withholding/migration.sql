-- A record withheld in full from a FOIA request's productions, with the exemption that allows it
-- (5 ILCS 140/7; docs/foia.md, "Records not produced"). Append-only history: the latest row of a
-- (request, record) pair decides, and `withheld = false` releases an earlier withholding. A
-- production lists each withheld record with its citation (not-produced.jsonl), so a denial in
-- full is stated in writing as 5 ILCS 140/9(a) requires, never a silent omission.
CREATE TABLE "foia_withholding" (
    "seq" BIGSERIAL NOT NULL,
    "request_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "withheld" BOOLEAN NOT NULL,
    "citation" TEXT,
    "note" TEXT,
    "decided_at" TIMESTAMPTZ(3) NOT NULL,
    "decided_by" TEXT NOT NULL,
    CONSTRAINT "foia_withholding_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "foia_withholding_citation_check" CHECK (NOT "withheld" OR "citation" IS NOT NULL)
);
CREATE INDEX "foia_withholding_request_id_comment_id_seq_idx" ON "foia_withholding"("request_id", "comment_id", "seq");
ALTER TABLE "foia_withholding" ADD CONSTRAINT "foia_withholding_request_id_comment_id_fkey"
  FOREIGN KEY ("request_id", "comment_id") REFERENCES "foia_request_record"("request_id", "comment_id") ON DELETE RESTRICT ON UPDATE CASCADE;
GRANT SELECT, INSERT ON "foia_withholding" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "foia_withholding_seq_seq" TO "townsquare_runtime";
