-- Records format 2 (docs/ledger.md, "Format 2"; issue 24): a new entry commits to its payload by a
-- salted commitment, not by an unsalted SHA-256, so nothing that leaves the database lets anyone
-- confirm a guess of content that was withheld, redacted or destroyed.
--   * format: 1 for every entry written before (their payload_sha256 cannot change), 2 for new ones
--     (the column default; the runtime role cannot choose it);
--   * payload_salt: 32 random bytes from the service, kept beside the payload and nulled with it;
--   * payload_commitment: lowercase hex SHA-256 of the payload's skeleton (per-field and per-segment
--     salted digests). The database cannot recompute it cheaply (HMAC per field and word), so it
--     checks its shape; every verifier recomputes it and reports a mismatch as tampering;
--   * payload_sha256 is NULL for format 2: no unsalted hash of their content is stored.

ALTER TABLE "ledger_entry" ADD COLUMN "format" SMALLINT NOT NULL DEFAULT 1;
ALTER TABLE "ledger_entry" ALTER COLUMN "format" SET DEFAULT 2;
ALTER TABLE "ledger_entry" ADD COLUMN "payload_salt" BYTEA;
ALTER TABLE "ledger_entry" ADD COLUMN "payload_commitment" TEXT;
ALTER TABLE "ledger_entry" ALTER COLUMN "payload_sha256" DROP NOT NULL;

-- The existing ledger_entry_payload_digest_check (payload_sha256 is the payload's SHA-256) holds
-- for format 1; for format 2 payload_sha256 is NULL and this check gives the shape.
ALTER TABLE "ledger_entry" ADD CONSTRAINT "ledger_entry_format_check" CHECK (
  ("format" = 1 AND "payload_sha256" IS NOT NULL AND "payload_salt" IS NULL AND "payload_commitment" IS NULL)
  OR ("format" = 2 AND "payload_sha256" IS NULL AND "payload_commitment" ~ '^[0-9a-f]{64}$'
      AND ("payload_salt" IS NULL) = ("payload" IS NULL)
      AND ("payload_salt" IS NULL OR octet_length("payload_salt") = 32))
) NOT VALID;

REVOKE INSERT ON "ledger_entry" FROM "townsquare_runtime";
GRANT INSERT ("id", "kind", "subject", "actor", "payload", "payload_salt", "payload_commitment") ON "ledger_entry" TO "townsquare_runtime";

-- The leaf bytes of an entry by format: v1 as before (ledger_leaf_bytes with six arguments), v2 the
-- canonical JSON of {actor, id, kind, payloadCommitment, recordedAt, subject, v: 2}, exactly as
-- src/ledger/entry.ts entryLeafBytes writes them.
CREATE FUNCTION "ledger_leaf_bytes"(p_format SMALLINT, p_id UUID, p_kind TEXT, p_subject TEXT, p_actor TEXT, p_recorded_at TIMESTAMPTZ, p_digest TEXT)
RETURNS BYTEA LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE p_format
    WHEN 1 THEN ledger_leaf_bytes(p_id, p_kind, p_subject, p_actor, p_recorded_at, p_digest)
    WHEN 2 THEN convert_to(
      '{"actor":' || to_json(p_actor)::text
      || ',"id":"' || p_id::text
      || '","kind":' || to_json(p_kind)::text
      || ',"payloadCommitment":' || to_json(p_digest)::text
      || ',"recordedAt":"' || to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      || '","subject":' || to_json(p_subject)::text
      || ',"v":2}', 'UTF8')
  END
$$;

CREATE OR REPLACE FUNCTION "ledger_seal"(p_limit INTEGER)
RETURNS TABLE ("sealed" INTEGER, "tree_size" BIGINT, "root_hash" BYTEA, "checkpoint_size" BIGINT, "sealed_at" TIMESTAMPTZ)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  horizon XID8;
  st ledger_seal_state%ROWTYPE;
  now_ms TIMESTAMPTZ := ledger_now();
  n INTEGER;
  end_size BIGINT;
  lvl INTEGER;
  last_entry RECORD;
BEGIN
  IF p_limit IS NULL OR p_limit < 1 OR p_limit > 100000 THEN RAISE EXCEPTION 'ledger_seal: limit must be 1..100000'; END IF;
  PERFORM pg_advisory_xact_lock(hashtext('townsquare:ledger-seal'));
  SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot())) INTO horizon
    FROM pg_snapshot_xip(pg_current_snapshot()) x
   WHERE xid(x) IN (SELECT backend_xid FROM pg_stat_activity
                     WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                    UNION ALL
                    SELECT transaction FROM pg_prepared_xacts WHERE database = current_database());
  horizon := least(horizon, pg_snapshot_xmax(pg_current_snapshot()));
  SELECT * INTO st FROM ledger_seal_state FOR UPDATE;

  INSERT INTO ledger_leaf (leaf_index, entry_id, leaf_hash, sealed_at)
  SELECT st.tree_size + b.ord - 1, b.id, sha256('\x00'::bytea || ledger_leaf_bytes(b.format, b.id, b.kind, b.subject, b.actor, b.recorded_at, CASE b.format WHEN 2 THEN b.payload_commitment ELSE b.payload_sha256::text END)), now_ms
    FROM (SELECT e.*, row_number() OVER (ORDER BY e.tx_id, e.seq) AS ord
            FROM (SELECT * FROM ledger_entry e
                   WHERE (e.tx_id, e.seq) > (st.last_tx_id, st.last_seq) AND e.tx_id < horizon
                   ORDER BY e.tx_id, e.seq LIMIT p_limit) e) b;
  GET DIAGNOSTICS n = ROW_COUNT;
  end_size := st.tree_size + n;

  IF n > 0 THEN
    -- The perfect subtrees completed by the new leaves, level by level.
    lvl := 1;
    WHILE (end_size >> lvl) > 0 LOOP
      INSERT INTO ledger_tree_node (level, index, hash)
      SELECT lvl, k, sha256('\x01'::bytea || ledger_node(lvl - 1, 2 * k) || ledger_node(lvl - 1, 2 * k + 1))
        FROM generate_series(st.tree_size >> lvl, (end_size >> lvl) - 1) k;
      lvl := lvl + 1;
    END LOOP;
    SELECT e.tx_id, e.seq, e.recorded_at INTO last_entry FROM ledger_leaf l JOIN ledger_entry e ON e.id = l.entry_id WHERE l.leaf_index = end_size - 1;
    UPDATE ledger_seal_state SET tree_size = end_size, last_tx_id = last_entry.tx_id, last_seq = last_entry.seq,
           sealed_through = greatest(ledger_seal_state.sealed_through,
                                     (SELECT max(e.recorded_at) FROM ledger_leaf l JOIN ledger_entry e ON e.id = l.entry_id WHERE l.leaf_index >= st.tree_size));
  END IF;

  -- The time a checkpoint of this tree may carry: now, or the latest checkpoint's time while the
  -- clock is behind it (a step back), so checkpoint times never go backwards and sealing goes on.
  RETURN QUERY SELECT n, end_size, ledger_root(end_size), coalesce((SELECT max(c.tree_size) FROM ledger_checkpoint c), 0::bigint),
                      greatest(now_ms, (SELECT max(c.issued_at) FROM ledger_checkpoint c));
END
$$;


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
  -- Format 1 entries are listed with their payloadSha256, format 2 entries with their payloadCommitment.
  SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', e.id::text, 'payloadSha256', CASE WHEN e.format = 1 THEN e.payload_sha256::text END,
                                                                 'payloadCommitment', CASE WHEN e.format = 2 THEN e.payload_commitment END)) ORDER BY e.id::text), '[]') INTO expected
    FROM ledger_entry e WHERE e.subject = ANY(ids::text[]) AND e.payload IS NOT NULL;
  SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', x ->> 'id', 'payloadSha256', x ->> 'payloadSha256', 'payloadCommitment', x ->> 'payloadCommitment')) ORDER BY x ->> 'id'), '[]') INTO listed
    FROM jsonb_array_elements(entry_payload -> 'ledgerEntries') x;
  IF listed IS DISTINCT FROM expected THEN
    RAISE EXCEPTION 'the disposal entry does not list exactly the ledger payloads being destroyed' USING ERRCODE = 'insufficient_privilege';
  END IF;

  -- The salt goes with the content: without it, a format 2 commitment confirms no guess.
  UPDATE ledger_entry SET payload = NULL, payload_salt = NULL WHERE subject = ANY(ids::text[]) AND (payload IS NOT NULL OR payload_salt IS NOT NULL);
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
    -- Listed by id only: an unsalted hash of the raw body in the (exported) disposal entry would
    -- confirm a guess of the destroyed text.
    IF item ? 'bodySha256' OR NOT EXISTS (SELECT 1 FROM webhook_delivery w WHERE w.id = (item ->> 'id')::uuid AND w.body IS NOT NULL) THEN
      RAISE EXCEPTION 'delivery % is not in the archive, or is listed with a hash of its content', item ->> 'id' USING ERRCODE = 'insufficient_privilege';
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


CREATE OR REPLACE FUNCTION "retention_allowed_change"(tbl TEXT, old_row JSONB, new_row JSONB) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  k TEXT;
  allowed_null TEXT[];
  allowed_redact TEXT[];
BEGIN
  CASE tbl
    WHEN 'ledger_entry' THEN allowed_null := ARRAY['payload', 'payload_salt']; allowed_redact := '{}';
    WHEN 'comment_event' THEN allowed_null := ARRAY['text', 'repetition_fingerprint']; allowed_redact := '{}';
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
