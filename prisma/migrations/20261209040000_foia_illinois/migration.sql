-- FOIA the way Illinois law runs it (issue 29; issue 25 item 5): tracking numbers, the calendar a
-- deadline was computed with, detaching records, letters and their templates, the requester's
-- messages, fee estimates and waivers, and reviews by the Public Access Counselor. docs/foia.md.

-- Tracking numbers: YYYY-NNNN per year of receipt, gap-free. A number is taken from the year's
-- counter row inside the transaction that creates the request: the row lock orders concurrent
-- creations, and a rolled-back creation rolls its number back too.
CREATE TABLE "foia_tracking_counter" (
    "year" INTEGER NOT NULL,
    "last" INTEGER NOT NULL,
    CONSTRAINT "foia_tracking_counter_pkey" PRIMARY KEY ("year"),
    CONSTRAINT "foia_tracking_counter_last_check" CHECK ("last" >= 1)
);

ALTER TABLE "foia_request"
    ADD COLUMN "tracking_number" TEXT,
    ADD COLUMN "due_calendar" TEXT,
    ADD COLUMN "recurrent" BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN "source" TEXT NOT NULL DEFAULT 'clerk',
    ADD COLUMN "requester_email" TEXT;

-- Requests logged before this migration get their numbers in the order they were logged.
WITH numbered AS (
  SELECT id, EXTRACT(YEAR FROM received_on)::int AS year,
         ROW_NUMBER() OVER (PARTITION BY EXTRACT(YEAR FROM received_on) ORDER BY seq) AS n
    FROM foia_request
)
UPDATE foia_request r SET tracking_number = numbered.year::text || '-' || lpad(numbered.n::text, 4, '0')
  FROM numbered WHERE numbered.id = r.id;
INSERT INTO foia_tracking_counter (year, last)
  SELECT EXTRACT(YEAR FROM received_on)::int, COUNT(*) FROM foia_request GROUP BY 1;
-- Requests logged before count towards a recurrent requester's (5 ILCS 140/2(g)) by their e-mail
-- address, as src/foia/requests.ts (emailOf) recognizes one.
UPDATE foia_request SET requester_email = lower(btrim(requester_contact))
 WHERE btrim(requester_contact) ~ '^[^\s@<>(),;:"\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$';
-- The shipped 2026-2027 list computed the deadlines of those requests (the rules give the same days).
UPDATE foia_request SET due_calendar = 'illinois-state-list-2026-2027';

ALTER TABLE "foia_request" ALTER COLUMN "tracking_number" SET NOT NULL, ALTER COLUMN "due_calendar" SET NOT NULL;
CREATE UNIQUE INDEX "foia_request_tracking_number_key" ON "foia_request"("tracking_number");
CREATE INDEX "foia_request_requester_email_received_on_idx" ON "foia_request"("requester_email", "received_on");
ALTER TABLE "foia_request" ADD CONSTRAINT "foia_request_tracking_number_check" CHECK ("tracking_number" ~ '^[0-9]{4}-[0-9]{4,}$');
ALTER TABLE "foia_request" ADD CONSTRAINT "foia_request_source_check" CHECK ("source" IN ('clerk', 'public'));

-- A number once given is never changed.
CREATE FUNCTION foia_request_keep_tracking_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.tracking_number IS DISTINCT FROM OLD.tracking_number OR NEW.received_on IS DISTINCT FROM OLD.received_on THEN
    RAISE EXCEPTION 'a FOIA request''s tracking number and date of receipt never change' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "foia_request_keep_tracking_number" BEFORE UPDATE ON "foia_request" FOR EACH ROW EXECUTE FUNCTION foia_request_keep_tracking_number();

-- Detaching a record: the row stays, marked detached (who, when, why); attaching it again clears
-- the mark. Each detachment is also a `foia.record_detached` ledger entry, so the history is kept.
ALTER TABLE "foia_request_record"
    ADD COLUMN "detached_at" TIMESTAMPTZ(3),
    ADD COLUMN "detached_by" TEXT,
    ADD COLUMN "detach_reason" TEXT;

-- Letter templates the city edits, versioned (append-only: a new version per edit).
CREATE TABLE "foia_letter_template" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    CONSTRAINT "foia_letter_template_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "foia_letter_template_kind_version_key" ON "foia_letter_template"("kind", "version");

-- Each letter as sent: its text and PDF, their SHA-256 (also in its `foia.letter` ledger entry),
-- and the version of the template it was rendered from (0: the built-in one).
CREATE TABLE "foia_letter" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "request_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "template_version" INTEGER NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "text_sha256" CHAR(64) NOT NULL,
    "pdf" BYTEA NOT NULL,
    "pdf_sha256" CHAR(64) NOT NULL,
    "public_text" TEXT,
    "details" JSONB NOT NULL,
    "email" TEXT,
    "ledger_entry_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "created_by" TEXT NOT NULL,
    CONSTRAINT "foia_letter_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "foia_letter_request_id_seq_idx" ON "foia_letter"("request_id", "seq");
ALTER TABLE "foia_letter" ADD CONSTRAINT "foia_letter_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The central file of denial notices (5 ILCS 140/9(b)): one row per exemption a denial cites.
CREATE TABLE "foia_denial_exemption" (
    "letter_id" UUID NOT NULL,
    "citation" TEXT NOT NULL,
    CONSTRAINT "foia_denial_exemption_pkey" PRIMARY KEY ("letter_id", "citation")
);
CREATE INDEX "foia_denial_exemption_citation_idx" ON "foia_denial_exemption"("citation");
ALTER TABLE "foia_denial_exemption" ADD CONSTRAINT "foia_denial_exemption_letter_id_fkey" FOREIGN KEY ("letter_id") REFERENCES "foia_letter"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Each attempt to e-mail a letter and its outcome.
CREATE TABLE "foia_letter_delivery" (
    "seq" BIGSERIAL NOT NULL,
    "letter_id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "error" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "foia_letter_delivery_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "foia_letter_delivery_status_check" CHECK ("status" IN ('sent', 'failed', 'no_address', 'no_mail_server', 'suppressed'))
);
CREATE INDEX "foia_letter_delivery_letter_id_seq_idx" ON "foia_letter_delivery"("letter_id", "seq");
ALTER TABLE "foia_letter_delivery" ADD CONSTRAINT "foia_letter_delivery_letter_id_fkey" FOREIGN KEY ("letter_id") REFERENCES "foia_letter"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Messages between the requester and the clerk, kept with the request.
CREATE TABLE "foia_message" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "request_id" UUID NOT NULL,
    "author" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "by" TEXT NOT NULL,
    CONSTRAINT "foia_message_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "foia_message_author_check" CHECK ("author" IN ('requester', 'clerk'))
);
CREATE INDEX "foia_message_request_id_seq_idx" ON "foia_message"("request_id", "seq");
ALTER TABLE "foia_message" ADD CONSTRAINT "foia_message_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Fee estimates (5 ILCS 140/6) and waivers: the latest row counts.
CREATE TABLE "foia_fee" (
    "seq" BIGSERIAL NOT NULL,
    "request_id" UUID NOT NULL,
    "pages" INTEGER NOT NULL,
    "electronic" BOOLEAN NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "waived" BOOLEAN NOT NULL,
    "waiver_reason" TEXT,
    "schedule" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "by" TEXT NOT NULL,
    CONSTRAINT "foia_fee_pkey" PRIMARY KEY ("seq"),
    CONSTRAINT "foia_fee_waiver_check" CHECK (NOT "waived" OR "waiver_reason" IS NOT NULL)
);
CREATE INDEX "foia_fee_request_id_seq_idx" ON "foia_fee"("request_id", "seq");
ALTER TABLE "foia_fee" ADD CONSTRAINT "foia_fee_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A review by the Attorney General's Public Access Counselor (5 ILCS 140/9.5): its request, its
-- documents and its outcome, as events against the FOIA request.
CREATE TABLE "foia_review_event" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "request_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "pac_reference" TEXT,
    "on_date" DATE NOT NULL,
    "note" TEXT,
    "document_name" TEXT,
    "document_sha256" CHAR(64),
    "document" BYTEA,
    "outcome" TEXT,
    "ledger_entry_id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "by" TEXT NOT NULL,
    CONSTRAINT "foia_review_event_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "foia_review_event_kind_check" CHECK ("kind" IN ('requested', 'document', 'outcome'))
);
CREATE INDEX "foia_review_event_request_id_seq_idx" ON "foia_review_event"("request_id", "seq");
ALTER TABLE "foia_review_event" ADD CONSTRAINT "foia_review_event_request_id_fkey" FOREIGN KEY ("request_id") REFERENCES "foia_request"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Everything above but the counter is a record: append-only, like the ledger.
DO $$
DECLARE t TEXT;
BEGIN
  FOREACH t IN ARRAY ARRAY['foia_letter_template', 'foia_letter', 'foia_denial_exemption', 'foia_letter_delivery', 'foia_message', 'foia_fee', 'foia_review_event'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()', t || '_no_change', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()', t || '_no_truncate', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE ON "foia_tracking_counter" TO "townsquare_runtime";
GRANT SELECT, INSERT ON "foia_letter_template", "foia_letter", "foia_denial_exemption", "foia_letter_delivery", "foia_message", "foia_fee", "foia_review_event" TO "townsquare_runtime";
GRANT UPDATE ("detached_at", "detached_by", "detach_reason", "attached_at", "attached_by", "search_id") ON "foia_request_record" TO "townsquare_runtime";
GRANT USAGE ON SEQUENCE "foia_letter_seq_seq", "foia_letter_delivery_seq_seq", "foia_message_seq_seq", "foia_fee_seq_seq", "foia_review_event_seq_seq" TO "townsquare_runtime";
