-- Each comment version's repetition fingerprint (src/policy/repetition.ts, docs/policy.md): the
-- number of distinct character 3-grams of its normalized text and the 256 smallest hash values of
-- that set, written by ingestion with the version. Repetition rules compare these instead of the
-- author's full texts, so the work per new comment is bounded whatever the author wrote.
-- Derived data, not evidence: rows stored before this migration keep NULL and the rule computes
-- their fingerprint from the text when they are among an author's recent versions (a bounded
-- number; no backfill). Nullable, no default: adding it rewrites nothing.
-- The runtime role's table-wide INSERT and SELECT on comment_event cover the new column.
ALTER TABLE "comment_event" ADD COLUMN "repetition_fingerprint" BYTEA;

-- The fingerprint is derived from the text (for a short comment it is the whole set of its
-- 3-grams, from which the text can often be pieced together): when a disposal destroys the text
-- (dispose_records, 20261124100000), the fingerprint goes with it, whatever destroys it. This
-- trigger runs before the append-only guard (comment_event_no_change: triggers fire by name), which
-- now lets a disposal null the fingerprint as it lets it null the text (nothing else changes).
CREATE FUNCTION "comment_event_fingerprint_forget"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.repetition_fingerprint := NULL;
  RETURN NEW;
END
$$;
CREATE TRIGGER "comment_event_fingerprint_forget" BEFORE UPDATE ON "comment_event"
  FOR EACH ROW WHEN (NEW.text IS NULL AND NEW.repetition_fingerprint IS NOT NULL) EXECUTE FUNCTION comment_event_fingerprint_forget();

CREATE OR REPLACE FUNCTION "retention_allowed_change"(tbl TEXT, old_row JSONB, new_row JSONB) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  k TEXT;
  allowed_null TEXT[];
  allowed_redact TEXT[];
BEGIN
  CASE tbl
    WHEN 'ledger_entry' THEN allowed_null := ARRAY['payload']; allowed_redact := '{}';
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
