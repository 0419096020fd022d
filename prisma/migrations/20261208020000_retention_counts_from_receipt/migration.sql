-- Retention counts from what the city controls (issue 24, item 6; docs/retention.md).
--
-- A record's last activity is the later of
--   * the database's time of its latest comment, decision or appeal ledger entry (recorded_at,
--     stamped by ledger_recorded_at(): when Townsquare received or did it), and
--   * the platform's time of its latest event (comment.last_platform_at).
-- A platform time can only make a record's retention run longer, never shorter: a comment
-- delivered today with a platform time years in the past starts its period today. The service's
-- listing (src/retention/disposal.ts) and the database's check before any content is destroyed
-- (retention_ledger_eligible, called by dispose_records) both read this one function.
CREATE FUNCTION "retention_last_activity"(p_comment UUID) RETURNS TIMESTAMPTZ
LANGUAGE sql STABLE AS $$
  -- Null when the ledger holds no activity of the record (greatest() alone would then fall back
  -- on the platform's time): such a record is never eligible.
  SELECT CASE WHEN l.at IS NULL THEN NULL ELSE greatest(l.at, (SELECT c.last_platform_at FROM comment c WHERE c.id = p_comment)) END
    FROM (SELECT max(e.recorded_at) AS at FROM ledger_entry e
           WHERE e.subject = p_comment::text
             AND e.kind IN ('comment.version', 'comment.author_deleted', 'comment.platform_hidden', 'comment.platform_unhidden',
                            'moderation.decision', 'appeal.filed', 'appeal.decided')) l
$$;
GRANT EXECUTE ON FUNCTION "retention_last_activity"(UUID) TO "townsquare_runtime";

-- As in migration 20261207190200, with the activity above. Its other checks are unchanged: the
-- kind the ledger shows, the schedule the ledger recorded for it at or before the listing, and the
-- database's clock.
CREATE OR REPLACE FUNCTION "retention_ledger_eligible"(p_comment UUID, p_record_kind TEXT, p_before TIMESTAMPTZ) RETURNS BOOLEAN
LANGUAGE sql VOLATILE AS $$
  WITH facts AS (
    SELECT CASE WHEN EXISTS (SELECT 1 FROM ledger_entry e WHERE e.subject = p_comment::text AND e.kind = 'comment.version'
                               AND e.payload IS NOT NULL AND (e.payload::jsonb ->> 'byCityAccount')::boolean)
                  THEN 'city_comment'
                WHEN EXISTS (SELECT 1 FROM ledger_entry e WHERE e.subject = p_comment::text AND e.kind = 'moderation.decision'
                               AND e.payload IS NOT NULL AND e.payload::jsonb ->> 'action' IN ('remove', 'hide'))
                  THEN 'removed_comment'
                ELSE 'comment' END AS kind,
           retention_last_activity(p_comment) AS last_activity_at
  )
  SELECT coalesce(f.kind = p_record_kind AND f.last_activity_at + make_interval(days => s.days) <= ledger_now(), false)
    FROM facts f
    LEFT JOIN LATERAL (
      SELECT (x.payload::jsonb ->> 'retentionDays')::int AS days FROM ledger_entry x
       WHERE x.kind = 'retention.schedule_set' AND x.subject = 'record-kind:' || f.kind AND x.recorded_at <= p_before AND x.payload IS NOT NULL
       ORDER BY x.recorded_at DESC, x.seq DESC LIMIT 1) s ON true
$$;
