-- Retention schedules, legal holds and disposal (docs/retention.md).

-- Content that disposal destroys must be able to become NULL; ids, hashes and times never change.
ALTER TABLE "ledger_entry" ALTER COLUMN "payload" DROP NOT NULL;
ALTER TABLE "webhook_delivery" ALTER COLUMN "body" DROP NOT NULL, ALTER COLUMN "skipped" DROP NOT NULL;
ALTER TABLE "appeal" ALTER COLUMN "contact" DROP NOT NULL, ALTER COLUMN "statement" DROP NOT NULL;
ALTER TABLE "comment" ADD COLUMN "disposed_at" TIMESTAMPTZ(3), ADD COLUMN "disposal_id" UUID;

-- One retention period per record kind (src/records/query.ts RecordKind), as the city's approved
-- schedule states it. No row: the kind is not adopted and nothing of it is ever eligible.
CREATE TABLE "retention_schedule" (
    "record_kind" TEXT NOT NULL,
    "retention_days" INTEGER NOT NULL,
    "schedule_reference" TEXT NOT NULL,
    "note" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_by" TEXT NOT NULL,
    "ledger_entry_id" UUID NOT NULL,
    CONSTRAINT "retention_schedule_pkey" PRIMARY KEY ("record_kind"),
    CONSTRAINT "retention_schedule_kind_check" CHECK ("record_kind" IN ('comment', 'removed_comment', 'city_comment')),
    CONSTRAINT "retention_schedule_days_check" CHECK ("retention_days" >= 1)
);

CREATE TABLE "legal_hold" (
    "id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "query" JSONB,
    "status" TEXT NOT NULL,
    "placed_by" TEXT NOT NULL,
    "placed_at" TIMESTAMPTZ(3) NOT NULL,
    "placed_entry_id" UUID NOT NULL,
    "released_by" TEXT,
    "released_at" TIMESTAMPTZ(3),
    "release_reason" TEXT,
    "released_entry_id" UUID,
    CONSTRAINT "legal_hold_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "legal_hold_status_check" CHECK ("status" IN ('active', 'released')),
    CONSTRAINT "legal_hold_released_check" CHECK ("status" = 'active' OR ("released_at" IS NOT NULL AND "released_entry_id" IS NOT NULL))
);
CREATE INDEX "legal_hold_status_placed_at_idx" ON "legal_hold"("status", "placed_at");

-- The records a hold covers: resolved at placement, and later matches of a search hold found when
-- a disposal runs. Rows are never removed: a release ends the hold, not the history.
CREATE TABLE "legal_hold_record" (
    "hold_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "added_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "legal_hold_record_pkey" PRIMARY KEY ("hold_id", "comment_id"),
    CONSTRAINT "legal_hold_record_source_check" CHECK ("source" IN ('placement', 'search'))
);
CREATE INDEX "legal_hold_record_comment_id_idx" ON "legal_hold_record"("comment_id");
ALTER TABLE "legal_hold_record" ADD CONSTRAINT "legal_hold_record_hold_id_fkey" FOREIGN KEY ("hold_id") REFERENCES "legal_hold"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "legal_hold_record" ADD CONSTRAINT "legal_hold_record_comment_id_fkey" FOREIGN KEY ("comment_id") REFERENCES "comment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- A disposal certificate listing: listed, approved (the Commission's authorization recorded),
-- executed after the notice period.
CREATE TABLE "disposal" (
    "id" UUID NOT NULL,
    "status" TEXT NOT NULL,
    "notice_days" INTEGER NOT NULL,
    "note" TEXT,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "listed_entry_id" UUID NOT NULL,
    "approved_by" TEXT,
    "approved_at" TIMESTAMPTZ(3),
    "approved_on" DATE,
    "approval_reference" TEXT,
    "approval_entry_id" UUID,
    "notice_ends_at" TIMESTAMPTZ(3),
    "executed_by" TEXT,
    "executed_at" TIMESTAMPTZ(3),
    "execution_entry_id" UUID,
    CONSTRAINT "disposal_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "disposal_status_check" CHECK ("status" IN ('listed', 'approved', 'executed')),
    CONSTRAINT "disposal_notice_days_check" CHECK ("notice_days" >= 0),
    CONSTRAINT "disposal_approved_check" CHECK ("status" = 'listed' OR ("approved_at" IS NOT NULL AND "approval_entry_id" IS NOT NULL AND "notice_ends_at" IS NOT NULL)),
    CONSTRAINT "disposal_executed_check" CHECK ("status" <> 'executed' OR ("executed_at" IS NOT NULL AND "execution_entry_id" IS NOT NULL))
);
CREATE INDEX "disposal_created_at_idx" ON "disposal"("created_at");

CREATE TABLE "disposal_record" (
    "disposal_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "record_kind" TEXT NOT NULL,
    "retention_days" INTEGER NOT NULL,
    "schedule_reference" TEXT NOT NULL,
    "last_activity_at" TIMESTAMPTZ(3) NOT NULL,
    "retain_until" TIMESTAMPTZ(3) NOT NULL,
    -- pending until executed; then disposed, or skipped with the reason.
    "outcome" TEXT NOT NULL DEFAULT 'pending',
    "held_by" UUID[] DEFAULT '{}',
    CONSTRAINT "disposal_record_pkey" PRIMARY KEY ("disposal_id", "comment_id"),
    CONSTRAINT "disposal_record_outcome_check" CHECK ("outcome" IN ('pending', 'disposed', 'skipped_hold', 'skipped_activity', 'already_disposed'))
);
CREATE INDEX "disposal_record_comment_id_idx" ON "disposal_record"("comment_id");
ALTER TABLE "disposal_record" ADD CONSTRAINT "disposal_record_disposal_id_fkey" FOREIGN KEY ("disposal_id") REFERENCES "disposal"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "disposal_record" ADD CONSTRAINT "disposal_record_comment_id_fkey" FOREIGN KEY ("comment_id") REFERENCES "comment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Holds and disposals serialize on one transaction-level advisory lock: every change to a hold
-- takes it (trigger below) and dispose_records takes it first, so a hold placed while a disposal
-- runs either commits before the disposal reads the holds or waits until the disposal committed.
CREATE FUNCTION "retention_lock"() RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext('townsquare:retention'))
$$;
CREATE FUNCTION "retention_hold_lock"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM retention_lock();
  RETURN NULL;
END
$$;
CREATE TRIGGER "legal_hold_lock" BEFORE INSERT OR UPDATE OR DELETE ON "legal_hold" FOR EACH STATEMENT EXECUTE FUNCTION retention_hold_lock();
CREATE TRIGGER "legal_hold_record_lock" BEFORE INSERT OR UPDATE OR DELETE ON "legal_hold_record" FOR EACH STATEMENT EXECUTE FUNCTION retention_hold_lock();

-- Evidence with the quoted words removed: every "text" and "detail" key (the matched words and
-- what matched) is dropped at any depth; rule codes, categories, actions and offsets stay.
CREATE FUNCTION "retention_redact"(v JSONB) RETURNS JSONB LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF v IS NULL THEN RETURN NULL; END IF;
  IF jsonb_typeof(v) = 'object' THEN
    RETURN (SELECT coalesce(jsonb_object_agg(k, retention_redact(x)), '{}'::jsonb) FROM jsonb_each(v) AS e(k, x) WHERE k NOT IN ('text', 'detail'));
  ELSIF jsonb_typeof(v) = 'array' THEN
    RETURN (SELECT coalesce(jsonb_agg(retention_redact(x) ORDER BY i), '[]'::jsonb) FROM jsonb_array_elements(v) WITH ORDINALITY AS a(x, i));
  END IF;
  RETURN v;
END
$$;

-- True only inside dispose_records: the statement runs as that function's owner (SECURITY
-- DEFINER; no other role can be it) and the call stack ends in its frame (the owner typing UPDATE
-- by hand, or running any other function, has no such frame).
CREATE FUNCTION "retention_in_disposal"() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  ctx TEXT;
  owner NAME;
BEGIN
  SELECT r.rolname INTO owner FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
   WHERE p.oid = to_regprocedure('public.dispose_records(uuid,uuid)');
  IF owner IS NULL OR current_user <> owner THEN RETURN false; END IF;
  GET DIAGNOSTICS ctx = PG_CONTEXT;
  -- The outermost frame: the service calls it at top level, and statement text quoted in inner
  -- frames cannot end the context.
  RETURN ctx ~ '\nPL/pgSQL function (public\.)?dispose_records\(uuid,uuid\) line [0-9]+ at SQL statement$';
END
$$;

-- The columns disposal may change on each append-only table, and to what: NULL, or the redacted
-- form of the old value. Anything else in the row must be unchanged.
CREATE FUNCTION "retention_allowed_change"(tbl TEXT, old_row JSONB, new_row JSONB) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  k TEXT;
  allowed_null TEXT[];
  allowed_redact TEXT[];
BEGIN
  CASE tbl
    WHEN 'ledger_entry' THEN allowed_null := ARRAY['payload']; allowed_redact := '{}';
    WHEN 'comment_event' THEN allowed_null := ARRAY['text']; allowed_redact := '{}';
    WHEN 'webhook_delivery' THEN allowed_null := ARRAY['body', 'skipped']; allowed_redact := '{}';
    WHEN 'comment_evaluation' THEN allowed_null := '{}'; allowed_redact := ARRAY['matches'];
    WHEN 'moderation_decision' THEN allowed_null := ARRAY['note']; allowed_redact := ARRAY['evidence'];
    ELSE RETURN false;
  END CASE;
  FOR k IN SELECT key FROM jsonb_each(old_row) LOOP
    CONTINUE WHEN (old_row -> k) IS NOT DISTINCT FROM (new_row -> k);
    IF k = ANY(allowed_null) AND (new_row -> k) = 'null'::jsonb THEN CONTINUE; END IF;
    IF k = ANY(allowed_redact) AND (new_row -> k) = retention_redact(old_row -> k) THEN CONTINUE; END IF;
    RETURN false;
  END LOOP;
  RETURN true;
END
$$;

-- The append-only guard, with its one exception: dispose_records may destroy content columns.
-- DELETE and TRUNCATE stay refused for everyone.
CREATE OR REPLACE FUNCTION "ledger_reject_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND TG_LEVEL = 'ROW' AND retention_in_disposal()
     AND retention_allowed_change(TG_TABLE_NAME, to_jsonb(OLD), to_jsonb(NEW)) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'table "%" is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Records are evidence; append a new entry (for example a disposal) instead.';
END
$$;

-- The only way content is destroyed. Runs as the schema owner; checks everything itself, in the
-- caller's transaction, under the retention lock:
--   * the disposal's approval is recorded in the ledger and its notice period has passed;
--   * no pending record is under an active legal hold, or had platform activity since listing;
--   * p_entry is this disposal's `disposal` ledger entry and lists exactly the ledger entries whose
--     payloads are nulled (with their hashes) and the raw deliveries whose bodies are destroyed;
--   * a delivery's body goes only when every comment it carries is disposed.
CREATE FUNCTION "dispose_records"(p_disposal UUID, p_entry UUID) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  d disposal%ROWTYPE;
  entry_payload JSONB;
  entry_at TIMESTAMPTZ;
  notice_ends TIMESTAMPTZ;
  ids UUID[];
  expected JSONB;
  listed JSONB;
  item JSONB;
  n INTEGER;
BEGIN
  PERFORM retention_lock();
  SELECT * INTO d FROM disposal WHERE id = p_disposal FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION 'no disposal %', p_disposal USING ERRCODE = 'no_data_found'; END IF;
  -- The approval and the notice period are read from the ledger (immutable), not from the
  -- disposal row, which the service updates: the period runs from the approval entry's time for
  -- the number of days the listing entry announced.
  SELECT a.recorded_at + make_interval(days => (l.payload::jsonb ->> 'noticeDays')::int) INTO notice_ends
    FROM ledger_entry a, ledger_entry l
   WHERE a.id = d.approval_entry_id AND a.kind = 'disposal.approved' AND a.subject = p_disposal::text AND a.payload IS NOT NULL
     AND l.id = d.listed_entry_id AND l.kind = 'disposal.listed' AND l.subject = p_disposal::text AND l.payload IS NOT NULL;
  IF d.status <> 'approved' OR notice_ends IS NULL THEN
    RAISE EXCEPTION 'disposal % has no recorded approval (status %)', p_disposal, d.status USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF now() < notice_ends THEN
    RAISE EXCEPTION 'the notice period of disposal % ends at %', p_disposal, notice_ends USING ERRCODE = 'insufficient_privilege';
  END IF;

  SELECT coalesce(array_agg(comment_id ORDER BY comment_id), '{}') INTO ids
    FROM disposal_record WHERE disposal_id = p_disposal AND outcome = 'pending';
  IF EXISTS (SELECT 1 FROM legal_hold_record hr JOIN legal_hold h ON h.id = hr.hold_id
              WHERE h.status = 'active' AND hr.comment_id = ANY(ids)) THEN
    RAISE EXCEPTION 'a record of disposal % is under an active legal hold', p_disposal USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM comment c JOIN disposal_record r ON r.comment_id = c.id AND r.disposal_id = p_disposal
              WHERE c.id = ANY(ids) AND (c.last_platform_at > r.last_activity_at OR c.disposed_at IS NOT NULL)) THEN
    RAISE EXCEPTION 'a record of disposal % changed since it was listed', p_disposal USING ERRCODE = 'insufficient_privilege';
  END IF;

  SELECT payload::jsonb, recorded_at INTO entry_payload, entry_at FROM ledger_entry
   WHERE id = p_entry AND kind = 'disposal' AND subject = p_disposal::text AND payload IS NOT NULL;
  IF NOT FOUND THEN RAISE EXCEPTION 'ledger entry % is not the disposal entry of %', p_entry, p_disposal USING ERRCODE = 'insufficient_privilege'; END IF;

  SELECT coalesce(jsonb_agg(x ORDER BY x #>> '{}'), '[]') INTO listed FROM jsonb_array_elements(entry_payload -> 'disposed') x;
  SELECT coalesce(jsonb_agg(to_jsonb(i::text) ORDER BY i::text), '[]') INTO expected FROM unnest(ids) i;
  IF listed IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'the disposal entry does not list exactly the records being disposed' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', e.id::text, 'payloadSha256', e.payload_sha256) ORDER BY e.id::text), '[]') INTO expected
    FROM ledger_entry e WHERE e.subject = ANY(ids::text[]) AND e.payload IS NOT NULL;
  SELECT coalesce(jsonb_agg(jsonb_build_object('id', x ->> 'id', 'payloadSha256', x ->> 'payloadSha256') ORDER BY x ->> 'id'), '[]') INTO listed
    FROM jsonb_array_elements(entry_payload -> 'ledgerEntries') x;
  IF listed IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'the disposal entry does not list exactly the ledger payloads being destroyed' USING ERRCODE = 'insufficient_privilege';
  END IF;

  UPDATE ledger_entry SET payload = NULL WHERE subject = ANY(ids::text[]) AND payload IS NOT NULL;
  UPDATE comment_event SET text = NULL WHERE comment_id = ANY(ids) AND text IS NOT NULL;
  UPDATE comment_evaluation SET matches = retention_redact(matches) WHERE comment_id = ANY(ids) AND matches <> retention_redact(matches);
  UPDATE moderation_decision SET evidence = retention_redact(evidence), note = NULL
   WHERE comment_id = ANY(ids) AND (evidence <> retention_redact(evidence) OR note IS NOT NULL);
  UPDATE review_item SET evidence = retention_redact(evidence) WHERE comment_id = ANY(ids);
  UPDATE appeal SET contact = NULL, statement = NULL, reason = NULL WHERE comment_id = ANY(ids);
  UPDATE comment SET current_text = NULL, author_id = NULL, author_name = NULL, author_email = NULL,
                     disposed_at = entry_at, disposal_id = p_disposal, updated_at = entry_at
   WHERE id = ANY(ids);

  FOR item IN SELECT x FROM jsonb_array_elements(entry_payload -> 'deliveries') x LOOP
    IF NOT EXISTS (SELECT 1 FROM webhook_delivery w WHERE w.id = (item ->> 'id')::uuid AND w.body_sha256 = item ->> 'bodySha256' AND w.body IS NOT NULL) THEN
      RAISE EXCEPTION 'delivery % is not in the archive with that hash', item ->> 'id' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Every comment it carries: those its events came from, and those the disposal found in it.
    IF EXISTS (
      SELECT 1 FROM comment c
       WHERE (c.id IN (SELECT comment_id FROM comment_event WHERE delivery_id = (item ->> 'id')::uuid)
              OR c.id::text IN (SELECT jsonb_array_elements_text(item -> 'carries')))
         AND c.disposed_at IS NULL) THEN
      RAISE EXCEPTION 'delivery % carries a comment that is retained', item ->> 'id' USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE webhook_delivery SET body = NULL, skipped = NULL WHERE id = (item ->> 'id')::uuid;
  END LOOP;

  UPDATE disposal_record SET outcome = 'disposed' WHERE disposal_id = p_disposal AND outcome = 'pending';
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION "dispose_records"(UUID, UUID) FROM PUBLIC;

-- A disposal moves forward only (listed, approved, executed) and what was recorded at each step
-- stays as recorded.
CREATE FUNCTION "disposal_forward_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.notice_days <> OLD.notice_days OR NEW.created_by <> OLD.created_by OR NEW.created_at <> OLD.created_at
     OR NEW.listed_entry_id <> OLD.listed_entry_id
     OR (OLD.status <> 'listed' AND (NEW.approved_by, NEW.approved_at, NEW.approved_on, NEW.approval_reference, NEW.approval_entry_id, NEW.notice_ends_at)
                                    IS DISTINCT FROM (OLD.approved_by, OLD.approved_at, OLD.approved_on, OLD.approval_reference, OLD.approval_entry_id, OLD.notice_ends_at))
     OR (OLD.status = 'executed' AND NEW IS DISTINCT FROM OLD)
     OR (OLD.status = 'approved' AND NEW.status = 'listed') THEN
    RAISE EXCEPTION 'disposal %: a recorded step cannot be changed', OLD.id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER "disposal_forward_only" BEFORE UPDATE ON "disposal" FOR EACH ROW EXECUTE FUNCTION disposal_forward_only();
CREATE TRIGGER "disposal_no_delete" BEFORE DELETE ON "disposal" FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
GRANT EXECUTE ON FUNCTION "dispose_records"(UUID, UUID) TO "townsquare_runtime";

GRANT SELECT, INSERT, UPDATE ON "retention_schedule", "legal_hold", "disposal", "disposal_record" TO "townsquare_runtime";
GRANT SELECT, INSERT ON "legal_hold_record" TO "townsquare_runtime";
