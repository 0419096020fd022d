-- comment_text_search (20261124082000) holds each version's searchable words: content, derived
-- from comment_event.text. When a disposal destroys that text (dispose_records, 20261124100000),
-- the words go with it, whatever destroys it: the derived table follows its source.
CREATE FUNCTION "comment_text_search_forget"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM comment_text_search s USING changed n WHERE s.event_id = n.id AND n.text IS NULL;
  RETURN NULL;
END
$$;
CREATE TRIGGER "comment_event_text_search_forget" AFTER UPDATE ON "comment_event"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION comment_text_search_forget();
