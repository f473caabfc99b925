-- Typed columns and tables for what analysts filter on, derived in the database from what each
-- record's load already stores, so the transform (and so every record's content hash) is unchanged:
-- - from `derived`: ISSN, volume, issue, start page, full publication date, publication types, as
--   generated columns of catalogue_record;
-- - from the PubMed XML in record_source, which alone holds them: MeSH headings with their unique
--   ids (UI), qualifiers and major-topic flags (`derived` keeps descriptor names only, mixed with
--   the author keywords), the NLM journal abbreviation and the page range. Triggers on
--   record_source rewrite them whenever the load statement writes a record's XML, in that statement.

CREATE OR REPLACE FUNCTION pubcat_text_array(value jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(value) = 'array' THEN ARRAY(SELECT jsonb_array_elements_text(value)) END
$$;

COMMENT ON FUNCTION pubcat_text_array(jsonb) IS 'A JSON array of strings as text[] (null when the value is not an array).';

-- publishDateSort is `YYYY` or `YYYY-MM-DD`; a day the calendar does not have gives null, never an
-- error that would refuse the record.
CREATE OR REPLACE FUNCTION pubcat_full_date(value text) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT first_of_month + (day - 1)
  FROM (
    SELECT make_date(substr(value, 1, 4)::int, substr(value, 6, 2)::int, 1) AS first_of_month, substr(value, 9, 2)::int AS day
    WHERE value ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
  ) AS parts
  WHERE first_of_month + (day - 1) < first_of_month + interval '1 month'
$$;

COMMENT ON FUNCTION pubcat_full_date(text) IS 'A YYYY-MM-DD text as a date; null for a year alone or a day the month does not have.';

ALTER TABLE catalogue_record
  ADD COLUMN IF NOT EXISTS issn text[] GENERATED ALWAYS AS (pubcat_text_array(derived -> 'issn')) STORED,
  ADD COLUMN IF NOT EXISTS volume text GENERATED ALWAYS AS (derived ->> 'container_volume') STORED,
  ADD COLUMN IF NOT EXISTS issue text GENERATED ALWAYS AS (derived ->> 'container_issue') STORED,
  ADD COLUMN IF NOT EXISTS start_page text GENERATED ALWAYS AS (derived ->> 'container_start_page') STORED,
  ADD COLUMN IF NOT EXISTS publish_date date GENERATED ALWAYS AS (pubcat_full_date(derived ->> 'publishDateSort')) STORED,
  ADD COLUMN IF NOT EXISTS publication_types text[] GENERATED ALWAYS AS (pubcat_text_array(derived -> 'genre_facet')) STORED;

COMMENT ON COLUMN catalogue_record.issn IS 'The journal''s ISSNs (print and electronic), from derived->''issn''.';
COMMENT ON COLUMN catalogue_record.volume IS 'Journal volume, from derived->>''container_volume''.';
COMMENT ON COLUMN catalogue_record.issue IS 'Journal issue, from derived->>''container_issue''.';
COMMENT ON COLUMN catalogue_record.start_page IS 'First page (or electronic location), from derived->>''container_start_page''; the whole range is record_citation.pages.';
COMMENT ON COLUMN catalogue_record.publish_date IS 'Full publication date (issue date, else the electronic one), from derived->>''publishDateSort''; null when PubMed gives less than a day (publish_year still holds the year).';
COMMENT ON COLUMN catalogue_record.publication_types IS 'PubMed publication types ("Journal Article", "Review"), from derived->''genre_facet''.';

CREATE INDEX IF NOT EXISTS catalogue_record_issn ON catalogue_record USING gin (issn);
CREATE INDEX IF NOT EXISTS catalogue_record_publication_types ON catalogue_record USING gin (publication_types);
CREATE INDEX IF NOT EXISTS catalogue_record_publish_date ON catalogue_record (publish_date) WHERE publish_date IS NOT NULL;

CREATE TABLE IF NOT EXISTS record_mesh (
  pmid          bigint NOT NULL,
  heading       integer NOT NULL CHECK (heading > 0),
  descriptor    text NOT NULL,
  descriptor_ui text NOT NULL,
  qualifier     text,
  qualifier_ui  text,
  major_topic   boolean NOT NULL
);

COMMENT ON TABLE record_mesh IS 'MeSH headings of each record as PubMed indexed them: one row for the descriptor of each heading, and one more for each qualifier (subheading) on it. Rewritten whenever the record is; a tombstone keeps its rows (join catalogue_record on status = ''active'').';
COMMENT ON COLUMN record_mesh.pmid IS 'The record (catalogue_record.pmid).';
COMMENT ON COLUMN record_mesh.heading IS 'Position of the heading in the record''s MeshHeadingList, from 1.';
COMMENT ON COLUMN record_mesh.descriptor IS 'Descriptor name ("Multiple Sclerosis").';
COMMENT ON COLUMN record_mesh.descriptor_ui IS 'Descriptor unique id ("D009103").';
COMMENT ON COLUMN record_mesh.qualifier IS 'Qualifier name ("drug therapy"); null on the descriptor''s own row.';
COMMENT ON COLUMN record_mesh.qualifier_ui IS 'Qualifier unique id ("Q000188"); null on the descriptor''s own row.';
COMMENT ON COLUMN record_mesh.major_topic IS 'A major topic of the article (PubMed [majr]): on the descriptor''s row, when the descriptor or any of its qualifiers is starred; on a qualifier''s row, when that pair is.';

CREATE INDEX IF NOT EXISTS record_mesh_pmid ON record_mesh (pmid);
CREATE INDEX IF NOT EXISTS record_mesh_descriptor ON record_mesh (descriptor, qualifier);
CREATE INDEX IF NOT EXISTS record_mesh_descriptor_ui ON record_mesh (descriptor_ui, qualifier_ui);

CREATE TABLE IF NOT EXISTS record_citation (
  pmid                  bigint PRIMARY KEY,
  journal_abbreviation  text,
  pages                 text
);

COMMENT ON TABLE record_citation IS 'Citation details only the PubMed XML holds, one row per record with an article citation; rewritten whenever the record is.';
COMMENT ON COLUMN record_citation.pmid IS 'The record (catalogue_record.pmid).';
COMMENT ON COLUMN record_citation.journal_abbreviation IS 'NLM title abbreviation (MedlineTA, "J Clin Med"), else the ISO abbreviation.';
COMMENT ON COLUMN record_citation.pages IS 'Page range as PubMed gives it (MedlinePgn, "1-14"), else StartPage-EndPage.';

CREATE INDEX IF NOT EXISTS record_citation_journal_abbreviation ON record_citation (journal_abbreviation);

-- Set-based over the statement's rows: one XML parse per record and table. XML that does not
-- parse yields no rows rather than refusing the load.
CREATE OR REPLACE FUNCTION pubcat_write_citation_fields() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM record_mesh m USING written_sources s WHERE m.pmid = s.pmid;
  INSERT INTO record_mesh (pmid, heading, descriptor, descriptor_ui, qualifier, qualifier_ui, major_topic)
  SELECT parsed.pmid, h.heading, h.descriptor, h.descriptor_ui, q.qualifier, q.qualifier_ui,
    CASE WHEN q.qualifier IS NULL THEN h.descriptor_major OR h.any_qualifier_major
         ELSE h.descriptor_major OR q.qualifier_major END
  FROM (SELECT s.pmid, s.pubmed_xml::xml AS doc FROM written_sources s WHERE xml_is_well_formed_content(s.pubmed_xml)) AS parsed
  CROSS JOIN XMLTABLE('/PubmedArticle/MedlineCitation/MeshHeadingList/MeshHeading' PASSING parsed.doc COLUMNS
    heading FOR ORDINALITY,
    descriptor text PATH 'DescriptorName',
    descriptor_ui text PATH 'DescriptorName/@UI',
    descriptor_major boolean PATH 'DescriptorName/@MajorTopicYN = "Y"',
    any_qualifier_major boolean PATH 'count(QualifierName[@MajorTopicYN = "Y"]) > 0',
    heading_xml xml PATH '.') AS h
  CROSS JOIN LATERAL (
    SELECT NULL::text AS qualifier, NULL::text AS qualifier_ui, false AS qualifier_major
    UNION ALL
    SELECT q.qualifier, q.qualifier_ui, q.qualifier_major
    FROM XMLTABLE('/MeshHeading/QualifierName' PASSING h.heading_xml COLUMNS
      qualifier text PATH '.', qualifier_ui text PATH '@UI', qualifier_major boolean PATH '@MajorTopicYN = "Y"') AS q
  ) AS q
  WHERE h.descriptor IS NOT NULL AND h.descriptor_ui IS NOT NULL;

  DELETE FROM record_citation c USING written_sources s WHERE c.pmid = s.pmid;
  INSERT INTO record_citation (pmid, journal_abbreviation, pages)
  SELECT parsed.pmid, coalesce(c.medline_ta, c.iso_abbreviation),
    coalesce(c.medline_pgn, c.start_page || coalesce('-' || c.end_page, ''))
  FROM (SELECT s.pmid, s.pubmed_xml::xml AS doc FROM written_sources s WHERE xml_is_well_formed_content(s.pubmed_xml)) AS parsed
  CROSS JOIN XMLTABLE('/PubmedArticle/MedlineCitation' PASSING parsed.doc COLUMNS
    medline_ta text PATH 'MedlineJournalInfo/MedlineTA',
    iso_abbreviation text PATH 'Article/Journal/ISOAbbreviation',
    medline_pgn text PATH 'Article/Pagination/MedlinePgn',
    start_page text PATH 'Article/Pagination/StartPage',
    end_page text PATH 'Article/Pagination/EndPage') AS c;
  RETURN NULL;
END
$$;

COMMENT ON FUNCTION pubcat_write_citation_fields() IS 'Trigger on record_source: rewrites record_mesh and record_citation from the PubMed XML the statement wrote.';

DROP TRIGGER IF EXISTS record_source_inserted ON record_source;
CREATE TRIGGER record_source_inserted AFTER INSERT ON record_source
  REFERENCING NEW TABLE AS written_sources FOR EACH STATEMENT EXECUTE FUNCTION pubcat_write_citation_fields();
DROP TRIGGER IF EXISTS record_source_updated ON record_source;
CREATE TRIGGER record_source_updated AFTER UPDATE ON record_source
  REFERENCING NEW TABLE AS written_sources FOR EACH STATEMENT EXECUTE FUNCTION pubcat_write_citation_fields();

-- Records loaded before this migration: a no-op update fires the trigger for each.
UPDATE record_source SET pubmed_xml = pubmed_xml;

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
  r.publication_types
FROM catalogue_record r
LEFT JOIN record_citation c ON c.pmid = r.pmid;

COMMENT ON COLUMN v_record.journal_abbreviation IS 'NLM journal abbreviation ("J Clin Med").';
COMMENT ON COLUMN v_record.issn IS 'The journal''s ISSNs.';
COMMENT ON COLUMN v_record.volume IS 'Journal volume.';
COMMENT ON COLUMN v_record.issue IS 'Journal issue.';
COMMENT ON COLUMN v_record.pages IS 'Page range ("1-14"), or the electronic location.';
COMMENT ON COLUMN v_record.publish_date IS 'Full publication date; null when PubMed gives only a year or month.';
COMMENT ON COLUMN v_record.publication_types IS 'PubMed publication types.';
