-- Full-text search over every comment version for records clerks (src/records/query.ts). An
-- expression index, not a stored column: the expression must match TEXT_SEARCH_VECTOR exactly.
CREATE INDEX "comment_event_text_search_idx" ON "comment_event"
  USING gin (to_tsvector('english'::regconfig, coalesce("text", '')));
