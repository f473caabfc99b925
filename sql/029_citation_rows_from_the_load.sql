-- record_mesh and record_citation are written by the load statement, from rows the transform
-- workers read out of the PubMed XML, instead of by triggers that parsed the stored XML again in
-- the database: that second parse, as XML and twice per record, was more than half of the
-- database's work in a first load (measured: 2.3 → 1.0 ms of server CPU per record). The rows
-- stay as they are; a record's are rewritten when its XML is.

DROP TRIGGER IF EXISTS record_source_inserted ON record_source;
DROP TRIGGER IF EXISTS record_source_updated ON record_source;
DROP FUNCTION IF EXISTS pubcat_write_citation_fields();

COMMENT ON TABLE record_mesh IS 'MeSH headings of each record as PubMed indexed them: one row for the descriptor of each heading, and one more for each qualifier (subheading) on it. Written with the record''s PubMed XML, by the same statement; a tombstone keeps its rows (join catalogue_record on status = ''active'').';
COMMENT ON TABLE record_citation IS 'Citation details only the PubMed XML holds, one row per record with an article citation; written with the record''s PubMed XML, by the same statement.';
