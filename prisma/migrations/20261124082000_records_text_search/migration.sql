-- Records search over stored text vectors (src/records/query.ts, docs/performance.md "Records search").
-- The expression index of 20261124080000_records_search recomputed to_tsvector for every candidate
-- row of a phrase query (GIN does not keep positions, so phrases are always rechecked), and read
-- the wide comment_event rows to find each match's comment: a phrase over a million versions took
-- about a second. This narrow table keeps each version's vector once, computed on insert.
--
-- It is derived, not evidence: it can be rebuilt from comment_event at any time with
--   INSERT INTO comment_text_search SELECT id, comment_id, to_tsvector('english'::regconfig, coalesce(text, ''))
--     FROM comment_event WHERE text IS NOT NULL ON CONFLICT DO NOTHING;
CREATE TABLE "comment_text_search" (
    "event_id" UUID NOT NULL,
    "comment_id" UUID NOT NULL,
    "vector" TSVECTOR NOT NULL,
    CONSTRAINT "comment_text_search_pkey" PRIMARY KEY ("event_id")
);
CREATE INDEX "comment_text_search_vector_idx" ON "comment_text_search" USING gin ("vector");
-- When the other filters are selective (an author, a post, a rule), the planner checks those
-- comments' vectors instead of scanning every match of a common word.
CREATE INDEX "comment_text_search_comment_id_idx" ON "comment_text_search"("comment_id");

-- Filled by the database on every insert into comment_event, whatever inserts it (ingestion, an
-- import, a test factory): one statement-level trigger, one INSERT per statement. The expression is
-- TEXT_SEARCH_VECTOR in src/records/query.ts.
CREATE FUNCTION "comment_text_search_add"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO comment_text_search (event_id, comment_id, vector)
  SELECT n.id, n.comment_id, to_tsvector('english'::regconfig, coalesce(n.text, ''))
    FROM inserted n WHERE n.text IS NOT NULL;
  RETURN NULL;
END
$$;
CREATE TRIGGER "comment_event_text_search" AFTER INSERT ON "comment_event"
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION comment_text_search_add();

INSERT INTO comment_text_search (event_id, comment_id, vector)
SELECT id, comment_id, to_tsvector('english'::regconfig, coalesce(text, '')) FROM comment_event WHERE text IS NOT NULL;

-- Searches read the stored vectors now; keeping the expression index would double the text
-- indexing work of every ingestion for nothing.
DROP INDEX "comment_event_text_search_idx";

GRANT SELECT, INSERT ON "comment_text_search" TO "townsquare_runtime";
