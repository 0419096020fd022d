-- The ledger's rules enforced by the database, not by the service's goodwill (docs/security.md):
--   * recorded_at is stamped by the database at insertion, never earlier than the latest sealed
--     entry's; the runtime role cannot choose it (nor tx_id or seq, which decide sealing order);
--   * a payload's stored digest is its payload's;
--   * leaves, tree nodes, checkpoints and signing keys are written only by SECURITY DEFINER
--     functions that compute the leaves and the tree themselves and accept a checkpoint only for
--     the tree the database holds, at the database's time.

-- The database's clock for every ledger time. Tests move it as the owner (CREATE OR REPLACE with a
-- fixed instant); the runtime role cannot.
CREATE FUNCTION "ledger_now"() RETURNS TIMESTAMPTZ LANGUAGE sql VOLATILE AS $$
  SELECT date_trunc('milliseconds', clock_timestamp())
$$;

-- One row: where sealing stands. Written only by ledger_seal.
CREATE TABLE "ledger_seal_state" (
    "one" BOOLEAN NOT NULL DEFAULT true,
    "tree_size" BIGINT NOT NULL,
    "last_tx_id" XID8 NOT NULL,
    "last_seq" BIGINT NOT NULL,
    -- The latest recorded_at among sealed entries: no entry is recorded earlier than this.
    "sealed_through" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "ledger_seal_state_pkey" PRIMARY KEY ("one"),
    CONSTRAINT "ledger_seal_state_one_check" CHECK ("one")
);
INSERT INTO "ledger_seal_state" (tree_size, last_tx_id, last_seq, sealed_through)
SELECT coalesce((SELECT max(leaf_index) + 1 FROM ledger_leaf), 0),
       coalesce(e.tx_id, '0'::xid8), coalesce(e.seq, 0),
       coalesce((SELECT max(s.recorded_at) FROM ledger_entry s JOIN ledger_leaf sl ON sl.entry_id = s.id), '-infinity')
  FROM (SELECT 1) one
  LEFT JOIN ledger_leaf l ON l.leaf_index = (SELECT max(leaf_index) FROM ledger_leaf)
  LEFT JOIN ledger_entry e ON e.id = l.entry_id;
CREATE TRIGGER "ledger_seal_state_no_delete" BEFORE DELETE ON "ledger_seal_state" FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER "ledger_seal_state_no_truncate" BEFORE TRUNCATE ON "ledger_seal_state" FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

CREATE FUNCTION "ledger_recorded_at"() RETURNS TIMESTAMPTZ LANGUAGE sql VOLATILE AS $$
  SELECT greatest(ledger_now(), (SELECT sealed_through FROM ledger_seal_state))
$$;
ALTER TABLE "ledger_entry" ALTER COLUMN "recorded_at" SET DEFAULT ledger_recorded_at();

-- The runtime role names the fact; the database says when, and in which order it is sealed.
REVOKE INSERT ON "ledger_entry" FROM "townsquare_runtime";
GRANT INSERT ("id", "kind", "subject", "actor", "payload", "payload_sha256") ON "ledger_entry" TO "townsquare_runtime";

ALTER TABLE "ledger_entry" ADD CONSTRAINT "ledger_entry_payload_digest_check"
  CHECK ("payload" IS NULL OR "payload_sha256" = encode(sha256(convert_to("payload", 'UTF8')), 'hex')) NOT VALID;

-- The leaf bytes of an entry: the RFC 8785 canonical JSON of its envelope, exactly as
-- src/ledger/entry.ts entryLeafBytes writes it (keys in UTF-16 order; to_json escapes strings as
-- ECMAScript's JSON.stringify does; recordedAt as toISOString).
CREATE FUNCTION "ledger_leaf_bytes"(p_id UUID, p_kind TEXT, p_subject TEXT, p_actor TEXT, p_recorded_at TIMESTAMPTZ, p_payload_sha256 TEXT)
RETURNS BYTEA LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT convert_to(
    '{"actor":' || to_json(p_actor)::text
    || ',"id":"' || p_id::text
    || '","kind":' || to_json(p_kind)::text
    || ',"payloadSha256":' || to_json(p_payload_sha256)::text
    || ',"recordedAt":"' || to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    || '","subject":' || to_json(p_subject)::text
    || ',"v":1}', 'UTF8')
$$;

-- A perfect subtree's hash: level 0 from ledger_leaf, higher levels from ledger_tree_node.
CREATE FUNCTION "ledger_node"(p_level INTEGER, p_index BIGINT) RETURNS BYTEA LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN p_level = 0 THEN (SELECT leaf_hash FROM ledger_leaf WHERE leaf_index = p_index)
              ELSE (SELECT hash FROM ledger_tree_node WHERE level = p_level AND index = p_index) END
$$;

-- RFC 6962 root of the first p_size leaves from the stored perfect subtrees.
CREATE FUNCTION "ledger_root"(p_size BIGINT) RETURNS BYTEA LANGUAGE plpgsql STABLE AS $$
DECLARE
  parts BYTEA[] := '{}';
  offs BIGINT := 0;
  b INTEGER;
  h BYTEA;
  i INTEGER;
BEGIN
  IF p_size = 0 THEN RETURN sha256(''::bytea); END IF;
  FOR b IN REVERSE 62..0 LOOP
    IF (p_size >> b) & 1 = 1 THEN
      h := ledger_node(b, offs >> b);
      IF h IS NULL THEN RAISE EXCEPTION 'ledger tree node (%, %) is missing', b, offs >> b; END IF;
      parts := parts || h;
      offs := offs + (1::bigint << b);
    END IF;
  END LOOP;
  h := parts[array_length(parts, 1)];
  FOR i IN REVERSE array_length(parts, 1) - 1..1 LOOP
    h := sha256('\x01'::bytea || parts[i] || h);
  END LOOP;
  RETURN h;
END
$$;

-- Seals up to p_limit committed entries and returns where the tree stands, at the database's
-- time. Only entries whose transaction id is below the oldest transaction still running in this
-- database are taken, in (tx_id, seq) order, so a late commit is sealed later, never skipped
-- (docs/ledger.md, "Ordering"). Call it in a transaction of its own: the horizon is read before
-- the scan, and the scan's statement sees every transaction below it ended.
CREATE FUNCTION "ledger_seal"(p_limit INTEGER)
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
  SELECT st.tree_size + b.ord - 1, b.id, sha256('\x00'::bytea || ledger_leaf_bytes(b.id, b.kind, b.subject, b.actor, b.recorded_at, b.payload_sha256::text)), now_ms
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

-- The signed-note key ID of an Ed25519 key (SPKI PEM): SHA-256(name || 0x0A || 0x01 || key)[:4].
CREATE FUNCTION "ledger_key_id"(p_key_name TEXT, p_public_key_pem TEXT) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  der BYTEA := decode(regexp_replace(p_public_key_pem, '-----[A-Z ]+-----|\s', '', 'g'), 'base64');
BEGIN
  IF length(der) <> 44 OR substring(der FROM 1 FOR 12) <> '\x302a300506032b6570032100'::bytea THEN
    RAISE EXCEPTION 'not an Ed25519 public key in SPKI PEM' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN encode(substring(sha256(convert_to(p_key_name || E'\n', 'UTF8') || '\x01'::bytea || substring(der FROM 13)) FROM 1 FOR 4), 'hex');
END
$$;

-- Records a signed checkpoint, only for the tree the database holds: its size is the sealed size
-- and larger than every earlier checkpoint's, its root is computed here, its time is within a
-- minute before the database's now and not before the previous checkpoint's (the previous time
-- itself while the clock is behind it), and its note is that
-- checkpoint's text with one signature line by the named key. The database cannot check an
-- Ed25519 signature; verifiers do (docs/ledger.md).
CREATE FUNCTION "ledger_add_checkpoint"(p_tree_size BIGINT, p_issued_at TIMESTAMPTZ, p_key_name TEXT, p_public_key_pem TEXT, p_signed_note TEXT)
RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  root BYTEA;
  kid TEXT;
  body TEXT;
  sig_line TEXT;
  sig BYTEA;
  now_ms TIMESTAMPTZ := ledger_now();
  last_at TIMESTAMPTZ;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('townsquare:ledger-seal'));
  IF p_tree_size IS DISTINCT FROM (SELECT tree_size FROM ledger_seal_state) THEN
    RAISE EXCEPTION 'a checkpoint must be of the sealed tree (size %), not %', (SELECT tree_size FROM ledger_seal_state), p_tree_size USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_tree_size <= coalesce((SELECT max(tree_size) FROM ledger_checkpoint), 0) THEN
    RAISE EXCEPTION 'a checkpoint of size % exists already', p_tree_size USING ERRCODE = 'insufficient_privilege';
  END IF;
  last_at := coalesce((SELECT max(issued_at) FROM ledger_checkpoint), '-infinity');
  IF p_issued_at IS NULL OR p_issued_at > greatest(now_ms, last_at) OR p_issued_at < greatest(now_ms - interval '1 minute', last_at) THEN
    RAISE EXCEPTION 'a checkpoint is issued at the database''s time (%), not %', now_ms, p_issued_at USING ERRCODE = 'insufficient_privilege';
  END IF;
  kid := ledger_key_id(p_key_name, p_public_key_pem);
  INSERT INTO ledger_signing_key (key_id, key_name, public_key) VALUES (kid, p_key_name, p_public_key_pem) ON CONFLICT (key_id) DO NOTHING;
  IF NOT EXISTS (SELECT 1 FROM ledger_signing_key WHERE key_id = kid AND key_name = p_key_name) THEN
    RAISE EXCEPTION 'key id % is registered under another name', kid USING ERRCODE = 'insufficient_privilege';
  END IF;
  root := ledger_root(p_tree_size);
  body := p_key_name || E'\n' || p_tree_size || E'\n' || encode(root, 'base64') || E'\ntime '
          || to_char(p_issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || E'\n';
  IF left(p_signed_note, length(body) + 1) <> body || E'\n' THEN
    RAISE EXCEPTION 'the signed note is not the checkpoint of the sealed tree' USING ERRCODE = 'insufficient_privilege';
  END IF;
  sig_line := substring(p_signed_note FROM length(body) + 2);
  IF sig_line !~ ('^' || E'\u2014' || ' [^ \n]+ [A-Za-z0-9+/=]+\n$') OR split_part(substring(sig_line FROM 3), ' ', 1) <> p_key_name THEN
    RAISE EXCEPTION 'the signed note must carry one signature line by %', p_key_name USING ERRCODE = 'insufficient_privilege';
  END IF;
  sig := decode(rtrim(split_part(substring(sig_line FROM 3), ' ', 2), E'\n'), 'base64');
  IF length(sig) <> 68 OR encode(substring(sig FROM 1 FOR 4), 'hex') <> kid THEN
    RAISE EXCEPTION 'the signature line is not an Ed25519 signature by key %', kid USING ERRCODE = 'insufficient_privilege';
  END IF;
  INSERT INTO ledger_checkpoint (tree_size, root_hash, issued_at, key_name, key_id, signed_note)
  VALUES (p_tree_size, root, p_issued_at, p_key_name, kid, p_signed_note);
END
$$;

REVOKE ALL ON FUNCTION "ledger_seal"(INTEGER) FROM PUBLIC;
REVOKE ALL ON FUNCTION "ledger_add_checkpoint"(BIGINT, TIMESTAMPTZ, TEXT, TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "ledger_seal"(INTEGER) TO "townsquare_runtime";
GRANT EXECUTE ON FUNCTION "ledger_add_checkpoint"(BIGINT, TIMESTAMPTZ, TEXT, TEXT, TEXT) TO "townsquare_runtime";
REVOKE INSERT ON "ledger_leaf", "ledger_tree_node", "ledger_checkpoint", "ledger_signing_key" FROM "townsquare_runtime";
GRANT SELECT ON "ledger_seal_state" TO "townsquare_runtime";
