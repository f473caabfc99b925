-- Full-text search over title and abstract: a GIN index over their English tsvector. The tsvector
-- is an index expression, not a stored column: stored, it would widen every row by a kilobyte or
-- so, short of the size at which PostgreSQL moves values out of line, and the check-time bump of
-- an unchanged record would no longer fit beside the row (see 005). v_record shows it as
-- search_text, whose filter is this expression and so uses the index. The title weighs A and the
-- abstract B, so ts_rank puts title hits first.

CREATE OR REPLACE FUNCTION pubcat_search_text(title text, record jsonb) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(record ->> 'description', '')), 'B')
$$;

COMMENT ON FUNCTION pubcat_search_text(text, jsonb) IS 'Title (weight A) and abstract (weight B) of a record as an English tsvector; catalogue_record_search_text indexes pubcat_search_text(title, record).';

CREATE INDEX IF NOT EXISTS catalogue_record_search_text ON catalogue_record USING gin (pubcat_search_text(title, record));

CREATE OR REPLACE VIEW v_record AS
SELECT
  r.pmid,
  r.catalogue_id,
  r.status,
  r.version,
  r.title,
  r.journal,
  r.publish_year,
  r.doi,
  r.pmcid,
  ARRAY(SELECT jsonb_array_elements_text(coalesce(r.record -> 'author', '[]'::jsonb))) AS authors,
  ARRAY(SELECT jsonb_array_elements_text(coalesce(r.record -> 'language', '[]'::jsonb))) AS languages,
  r.record ->> 'description' AS abstract,
  r.first_seen_at,
  r.last_changed_at,
  r.last_checked_at,
  r.record,
  r.derived,
  c.journal_abbreviation,
  r.issn,
  r.volume,
  r.issue,
  c.pages,
  r.publish_date,
  r.publication_types,
  pubcat_search_text(r.title, r.record) AS search_text
FROM catalogue_record r
LEFT JOIN record_citation c ON c.pmid = r.pmid;

COMMENT ON COLUMN v_record.search_text IS 'Title and abstract for full-text search (GIN-indexed): WHERE search_text @@ websearch_to_tsquery(''english'', ''…'').';
