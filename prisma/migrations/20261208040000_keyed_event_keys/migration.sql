-- Event keys that cannot confirm a guess (issue 24). A version's key was 'v:' + SHA-256 of its
-- text and time: anyone holding it (every ledger payload, export, bundle and production carries
-- it) could hash candidate texts until one matched, a redacted SSN in about a minute. Keys are now
-- 'k:' + HMAC-SHA256(installation secret, the old key): the secret lives in this database only,
-- is never exported, and the runtime role may only read it. The service computes keys the same
-- way (src/webhooks/event-keys.ts), so a change delivered before and after this migration is still
-- stored once.

CREATE TABLE "installation_secret" (
  "singleton" BOOLEAN PRIMARY KEY DEFAULT true CHECK ("singleton"),
  -- 32 bytes from two version-4 UUIDs: 244 bits from PostgreSQL's strong random source.
  "event_key_secret" BYTEA NOT NULL CHECK (octet_length("event_key_secret") = 32)
);
INSERT INTO "installation_secret" ("event_key_secret") VALUES (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
GRANT SELECT ON "installation_secret" TO "townsquare_runtime";
CREATE TRIGGER "installation_secret_no_change" BEFORE UPDATE OR DELETE ON "installation_secret" FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER "installation_secret_no_truncate" BEFORE TRUNCATE ON "installation_secret" FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

-- RFC 2104 with SHA-256 (PostgreSQL has no hmac() without pgcrypto): the key's inner and outer
-- pads, computed once per statement by the callers below.
CREATE FUNCTION "hmac_sha256_pads"(key BYTEA, OUT ipad BYTEA, OUT opad BYTEA) LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  k BYTEA := CASE WHEN octet_length(key) > 64 THEN sha256(key) ELSE key END;
BEGIN
  k := k || decode(repeat('00', 64 - octet_length(k)), 'hex');
  ipad := k;
  opad := k;
  FOR i IN 0..63 LOOP
    ipad := set_byte(ipad, i, get_byte(k, i) # 54);
    opad := set_byte(opad, i, get_byte(k, i) # 92);
  END LOOP;
END
$$;
CREATE FUNCTION "hmac_sha256"(key BYTEA, msg BYTEA) RETURNS BYTEA LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT sha256(p.opad || sha256(p.ipad || msg)) FROM hmac_sha256_pads(key) p
$$;

-- Every stored version's key, rewritten once. Event keys are the service's deduplication index,
-- not evidence (the ledger payloads keep what was recorded, and reconciliation maps an old
-- payload's 'v:' key through the same HMAC); the append-only guard is set aside for this one
-- statement only.
ALTER TABLE "comment_event" DISABLE TRIGGER "comment_event_no_change";
UPDATE "comment_event" e
   SET "event_key" = 'k:' || encode(sha256(p.opad || sha256(p.ipad || convert_to(e."event_key", 'UTF8'))), 'hex')
  FROM (SELECT (hmac_sha256_pads("event_key_secret")).* FROM "installation_secret") p
 WHERE e."event_key" LIKE 'v:%';
ALTER TABLE "comment_event" ENABLE TRIGGER "comment_event_no_change";

-- A disposal destroys a version's text (dispose_records); its key goes with it, whatever destroys
-- it, so nothing kept is derived from the destroyed text. The new key names the row, so it stays
-- unique per comment. Triggers fire by name: this runs before the append-only guard.
CREATE FUNCTION "comment_event_key_forget"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.event_key := 'disposed:' || NEW.id::text;
  RETURN NEW;
END
$$;
CREATE TRIGGER "comment_event_key_forget" BEFORE UPDATE ON "comment_event"
  FOR EACH ROW WHEN (NEW.text IS NULL AND OLD.text IS NOT NULL) EXECUTE FUNCTION comment_event_key_forget();

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
    -- comment_event_key_forget's key, only with the text destroyed.
    IF tbl = 'comment_event' AND k = 'event_key' AND (new_row ->> k) = 'disposed:' || (new_row ->> 'id') AND (new_row -> 'text') = 'null'::jsonb THEN CONTINUE; END IF;
    RETURN false;
  END LOOP;
  RETURN true;
END
$$;
