-- Public verification (issue 24): fresh checkpoints and endorsed key rotations (docs/ledger.md).
--   * A checkpoint of the same size as the latest one is accepted when it has the same root and a
--     later time: the sealer issues one at least every LEDGER_MAX_CHECKPOINT_AGE, so a frozen log
--     (no new checkpoint) is distinguishable from a quiet one (new checkpoints, same tree).
--     ledger_checkpoint is therefore keyed by (tree_size, issued_at), no longer by tree_size alone.
--   * The first checkpoint signed by a new key may carry a second signature line, by the key of the
--     latest checkpoint: the previous key's endorsement of the new one. No other extra line.

ALTER TABLE "ledger_checkpoint" DROP CONSTRAINT "ledger_checkpoint_pkey";
ALTER TABLE "ledger_checkpoint" ADD CONSTRAINT "ledger_checkpoint_pkey" PRIMARY KEY ("tree_size", "issued_at");
-- Whether a key has signed before (endorsement rule), and each key's validity period (its first
-- and latest checkpoint, GET /v1/ledger/keys), by index lookups.
CREATE INDEX "ledger_checkpoint_key_id_issued_at_idx" ON "ledger_checkpoint"("key_id", "issued_at");

CREATE OR REPLACE FUNCTION "ledger_add_checkpoint"(p_tree_size BIGINT, p_issued_at TIMESTAMPTZ, p_key_name TEXT, p_public_key_pem TEXT, p_signed_note TEXT)
RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  root BYTEA;
  kid TEXT;
  body TEXT;
  m TEXT[];
  sig BYTEA;
  endorsement BYTEA;
  now_ms TIMESTAMPTZ := ledger_now();
  last_at TIMESTAMPTZ;
  latest ledger_checkpoint%ROWTYPE;
  has_latest BOOLEAN;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('townsquare:ledger-seal'));
  IF p_tree_size IS DISTINCT FROM (SELECT tree_size FROM ledger_seal_state) THEN
    RAISE EXCEPTION 'a checkpoint must be of the sealed tree (size %), not %', (SELECT tree_size FROM ledger_seal_state), p_tree_size USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT * INTO latest FROM ledger_checkpoint c ORDER BY c.tree_size DESC, c.issued_at DESC LIMIT 1;
  has_latest := FOUND;
  IF has_latest AND p_tree_size < latest.tree_size THEN
    RAISE EXCEPTION 'a checkpoint of size % exists already', latest.tree_size USING ERRCODE = 'insufficient_privilege';
  END IF;
  last_at := coalesce((SELECT max(issued_at) FROM ledger_checkpoint), '-infinity');
  IF p_issued_at IS NULL OR p_issued_at > greatest(now_ms, last_at) OR p_issued_at < greatest(now_ms - interval '1 minute', last_at) THEN
    RAISE EXCEPTION 'a checkpoint is issued at the database''s time (%), not %', now_ms, p_issued_at USING ERRCODE = 'insufficient_privilege';
  END IF;
  root := ledger_root(p_tree_size);
  IF has_latest AND p_tree_size = latest.tree_size THEN
    -- A freshness checkpoint: the same tree, signed again later.
    IF p_issued_at <= latest.issued_at THEN
      RAISE EXCEPTION 'a checkpoint of the same size (%) must be later than the latest one (%)', p_tree_size, latest.issued_at USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF root <> latest.root_hash THEN
      RAISE EXCEPTION 'a checkpoint of the same size (%) must have the same root', p_tree_size USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  kid := ledger_key_id(p_key_name, p_public_key_pem);
  INSERT INTO ledger_signing_key (key_id, key_name, public_key) VALUES (kid, p_key_name, p_public_key_pem) ON CONFLICT (key_id) DO NOTHING;
  IF NOT EXISTS (SELECT 1 FROM ledger_signing_key WHERE key_id = kid AND key_name = p_key_name) THEN
    RAISE EXCEPTION 'key id % is registered under another name', kid USING ERRCODE = 'insufficient_privilege';
  END IF;
  body := p_key_name || E'\n' || p_tree_size || E'\n' || encode(root, 'base64') || E'\ntime '
          || to_char(p_issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || E'\n';
  IF left(p_signed_note, length(body) + 1) <> body || E'\n' THEN
    RAISE EXCEPTION 'the signed note is not the checkpoint of the sealed tree' USING ERRCODE = 'insufficient_privilege';
  END IF;
  m := regexp_match(substring(p_signed_note FROM length(body) + 2),
         '^' || E'\u2014' || ' ([^ \n]+) ([A-Za-z0-9+/]+=*)\n(?:' || E'\u2014' || ' ([^ \n]+) ([A-Za-z0-9+/]+=*)\n)?$');
  IF m IS NULL OR m[1] <> p_key_name THEN
    RAISE EXCEPTION 'the signed note must carry one signature line by % (and at most the previous key''s endorsement)', p_key_name USING ERRCODE = 'insufficient_privilege';
  END IF;
  sig := decode(m[2], 'base64');
  IF length(sig) <> 68 OR encode(substring(sig FROM 1 FOR 4), 'hex') <> kid THEN
    RAISE EXCEPTION 'the signature line is not an Ed25519 signature by key %', kid USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF m[3] IS NOT NULL THEN
    -- An endorsement: only on the first checkpoint under a new key, only by the latest checkpoint's key.
    IF NOT has_latest OR latest.key_id = kid OR EXISTS (SELECT 1 FROM ledger_checkpoint c WHERE c.key_id = kid) THEN
      RAISE EXCEPTION 'only the first checkpoint under a new key carries a second signature (the previous key''s endorsement)' USING ERRCODE = 'insufficient_privilege';
    END IF;
    endorsement := decode(m[4], 'base64');
    IF m[3] <> latest.key_name OR length(endorsement) <> 68 OR encode(substring(endorsement FROM 1 FOR 4), 'hex') <> latest.key_id THEN
      RAISE EXCEPTION 'the second signature line must be by the previous checkpoint''s key %', latest.key_id USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  INSERT INTO ledger_checkpoint (tree_size, root_hash, issued_at, key_name, key_id, signed_note)
  VALUES (p_tree_size, root, p_issued_at, p_key_name, kid, p_signed_note);
END
$$;

REVOKE ALL ON FUNCTION "ledger_add_checkpoint"(BIGINT, TIMESTAMPTZ, TEXT, TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "ledger_add_checkpoint"(BIGINT, TIMESTAMPTZ, TEXT, TEXT, TEXT) TO "townsquare_runtime";
