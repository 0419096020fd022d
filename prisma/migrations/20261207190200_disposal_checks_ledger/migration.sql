-- Disposal checks what it can from the ledger, with the database's clock (docs/security.md):
--   * the notice period runs on ledger_now() from the approval entry's database-stamped time, and is
--     never shorter than the owner's floor (retention_settings.min_notice_days, 30 by default): so
--     every fact a disposal relies on (schedule, listing, approval) has been in the ledger, where
--     auditors see it, for at least that long before any content can go;
--   * the listing and the approval are two different people's entries, the approval after the listing;
--   * a hold applies until the ledger records its release, whatever legal_hold.status says, and
--     covers the records its hold.placed entry names as well as legal_hold_record's rows;
--   * each record is of the kind the ledger shows (city, removed, other), and its latest activity in
--     the ledger plus the retention period of the schedule the ledger recorded for that kind before
--     the listing is past (retention_ledger_eligible).

-- Set by the owner only (the runtime role may read it): the shortest notice period the database
-- accepts, whatever DISPOSAL_NOTICE_DAYS or a listing entry says.
CREATE TABLE "retention_settings" (
    "one" BOOLEAN NOT NULL DEFAULT true,
    "min_notice_days" INTEGER NOT NULL DEFAULT 30,
    CONSTRAINT "retention_settings_pkey" PRIMARY KEY ("one"),
    CONSTRAINT "retention_settings_one_check" CHECK ("one"),
    CONSTRAINT "retention_settings_min_notice_days_check" CHECK ("min_notice_days" BETWEEN 0 AND 365)
);
INSERT INTO "retention_settings" DEFAULT VALUES;
GRANT SELECT ON "retention_settings" TO "townsquare_runtime";

-- What the ledger says of a record's retention: its kind (as src/records/query.ts recordKindSql
-- derives it from the projection), its latest activity (the database's time of its latest
-- comment, decision or appeal entry) and the retention days of the schedule for that kind recorded
-- at or before p_before. Disposal's service side skips the records this refuses.
CREATE FUNCTION "retention_ledger_eligible"(p_comment UUID, p_record_kind TEXT, p_before TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE sql VOLATILE AS $$
  WITH facts AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM ledger_entry e WHERE e.subject = p_comment::text AND e.kind = 'comment.version'
                               AND e.payload IS NOT NULL AND (e.payload::jsonb ->> 'byCityAccount')::boolean)
                  THEN 'city_comment'
                WHEN EXISTS (SELECT 1 FROM ledger_entry e WHERE e.subject = p_comment::text AND e.kind = 'moderation.decision'
                               AND e.payload IS NOT NULL AND e.payload::jsonb ->> 'action' IN ('remove', 'hide'))
                  THEN 'removed_comment'
                ELSE 'comment' END AS kind,
           (SELECT max(e.recorded_at) FROM ledger_entry e
             WHERE e.subject = p_comment::text
               AND e.kind IN ('comment.version', 'comment.author_deleted', 'comment.platform_hidden', 'comment.platform_unhidden',
                              'moderation.decision', 'appeal.filed', 'appeal.decided')) AS last_activity_at
  )
  SELECT coalesce(f.kind = p_record_kind AND f.last_activity_at + make_interval(days => s.days) <= ledger_now(), false)
    FROM facts f
    LEFT JOIN LATERAL (
      SELECT (x.payload::jsonb ->> 'retentionDays')::int AS days FROM ledger_entry x
       WHERE x.kind = 'retention.schedule_set' AND x.subject = 'record-kind:' || f.kind AND x.recorded_at <= p_before AND x.payload IS NOT NULL
       ORDER BY x.recorded_at DESC, x.seq DESC LIMIT 1) s ON true
$$;

-- A record the service skips at execution because the ledger does not show it eligible.
ALTER TABLE "disposal_record" DROP CONSTRAINT "disposal_record_outcome_check";
ALTER TABLE "disposal_record" ADD CONSTRAINT "disposal_record_outcome_check"
  CHECK ("outcome" IN ('pending', 'disposed', 'skipped_hold', 'skipped_activity', 'skipped_ineligible', 'already_disposed'));

CREATE OR REPLACE FUNCTION "dispose_records"(p_disposal UUID, p_entry UUID) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  d disposal%ROWTYPE;
  entry_payload JSONB;
  entry_at TIMESTAMPTZ;
  listed_at TIMESTAMPTZ;
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
  -- Both times were stamped by the database (ledger_recorded_at), and the approval must be another
  -- person's than the listing's.
  SELECT a.recorded_at + make_interval(days => greatest((l.payload::jsonb ->> 'noticeDays')::int, (SELECT min_notice_days FROM retention_settings))),
         l.recorded_at INTO notice_ends, listed_at
    FROM ledger_entry a, ledger_entry l
   WHERE a.id = d.approval_entry_id AND a.kind = 'disposal.approved' AND a.subject = p_disposal::text AND a.payload IS NOT NULL
     AND l.id = d.listed_entry_id AND l.kind = 'disposal.listed' AND l.subject = p_disposal::text AND l.payload IS NOT NULL
     AND a.seq > l.seq;
  IF d.status <> 'approved' OR notice_ends IS NULL THEN
    RAISE EXCEPTION 'disposal % has no recorded approval (status %)', p_disposal, d.status USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (SELECT a.actor FROM ledger_entry a WHERE a.id = d.approval_entry_id) = (SELECT l.actor FROM ledger_entry l WHERE l.id = d.listed_entry_id) THEN
    RAISE EXCEPTION 'disposal % was listed and approved by the same person', p_disposal USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF ledger_now() < notice_ends THEN
    RAISE EXCEPTION 'the notice period of disposal % ends at %', p_disposal, notice_ends USING ERRCODE = 'insufficient_privilege';
  END IF;

  SELECT coalesce(array_agg(comment_id ORDER BY comment_id), '{}') INTO ids
    FROM disposal_record WHERE disposal_id = p_disposal AND outcome = 'pending';
  -- A hold is active until the ledger records its release (legal_hold.status is the service's).
  IF EXISTS (SELECT 1 FROM legal_hold_record hr
              WHERE hr.comment_id = ANY(ids)
                AND NOT EXISTS (SELECT 1 FROM ledger_entry x WHERE x.kind = 'hold.released' AND x.subject = hr.hold_id::text))
     OR EXISTS (SELECT 1 FROM ledger_entry p
                 WHERE p.kind = 'hold.placed' AND p.payload IS NOT NULL AND (p.payload::jsonb -> 'recordIds') ?| ids::text[]
                   AND NOT EXISTS (SELECT 1 FROM ledger_entry x WHERE x.kind = 'hold.released' AND x.subject = p.subject)) THEN
    RAISE EXCEPTION 'a record of disposal % is under an active legal hold', p_disposal USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM comment c JOIN disposal_record r ON r.comment_id = c.id AND r.disposal_id = p_disposal
              WHERE c.id = ANY(ids) AND (c.last_platform_at > r.last_activity_at OR c.disposed_at IS NOT NULL)) THEN
    RAISE EXCEPTION 'a record of disposal % changed since it was listed', p_disposal USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF EXISTS (SELECT 1 FROM disposal_record r
              WHERE r.disposal_id = p_disposal AND r.outcome = 'pending' AND NOT retention_ledger_eligible(r.comment_id, r.record_kind, listed_at)) THEN
    RAISE EXCEPTION 'a record of disposal % is not past its retention period by the ledger''s schedule and times', p_disposal USING ERRCODE = 'insufficient_privilege';
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
