-- Full-text search over title and abstract: a tsvector kept with each record (computed once as it
-- is written, never when only its check time moves) and a GIN index on it. English stemming; the
-- title weighs A and the abstract B, so ts_rank puts title hits first.

ALTER TABLE catalogue_record ADD COLUMN IF NOT EXISTS search_text tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
  setweight(to_tsvector('english'::regconfig, coalesce(record ->> 'description', '')), 'B')
) STORED;

COMMENT ON COLUMN catalogue_record.search_text IS 'Title (weight A) and abstract (weight B) as an English tsvector: WHERE search_text @@ websearch_to_tsquery(''english'', ''…'').';

CREATE INDEX IF NOT EXISTS catalogue_record_search_text ON catalogue_record USING gin (search_text);

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
  r.search_text
FROM catalogue_record r
LEFT JOIN record_citation c ON c.pmid = r.pmid;

COMMENT ON COLUMN v_record.search_text IS 'Title and abstract for full-text search (GIN-indexed): WHERE search_text @@ websearch_to_tsquery(''english'', ''…'').';
