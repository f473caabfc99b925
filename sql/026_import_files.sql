-- NCBI's bulk files (`pubcat import`): one row per file with where its import stands, so that a
-- file already imported writes nothing, a killed import resumes inside the file, and several
-- importers on one database share the files (each claims a row with FOR UPDATE SKIP LOCKED).
--
-- Order never matters: every record and tombstone notes the place in NCBI's file order of the
-- file it came from (import_order: the series year, then the file number), and a file's record
-- never replaces one from a later file. A DeleteCitation is kept in import_deletion even when
-- its PMID is not in the catalogue yet, so that an earlier file imported afterwards cannot bring
-- the record back.

CREATE TABLE IF NOT EXISTS import_file (
  name          text PRIMARY KEY,
  series        text NOT NULL,
  sequence      integer NOT NULL CHECK (sequence >= 0),
  import_order  integer NOT NULL,
  size          bigint NOT NULL,
  md5           text,
  records       integer,
  deleted       integer,
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  run_id        bigint REFERENCES etl_run (id),
  checkpoint    jsonb,
  claimed_by    text,
  heartbeat_at  timestamptz,
  error         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);

COMMENT ON TABLE import_file IS 'One row per NCBI bulk file (baseline or update) pubcat import has seen, with its state; a done file is not imported again unless forced.';
COMMENT ON COLUMN import_file.name IS 'The file''s name as NCBI publishes it (pubmed25n0001.xml.gz), without its folder; the key.';
COMMENT ON COLUMN import_file.series IS 'The name before the file number (pubmed25, medline16): the yearly series the file belongs to.';
COMMENT ON COLUMN import_file.sequence IS 'The file number in its name (pubmed25n0001 is 1).';
COMMENT ON COLUMN import_file.import_order IS 'Place of the file in NCBI''s order: the series year times 100000 plus the file number; a record from a later file wins.';
COMMENT ON COLUMN import_file.size IS 'Size of the file in bytes, as read.';
COMMENT ON COLUMN import_file.md5 IS 'MD5 (hex) of the file, from its .md5 sidecar when there is one (checked), else as computed while reading.';
COMMENT ON COLUMN import_file.records IS 'PubmedArticle, PubmedBookArticle and MedlineCitation elements in the file, once read to its end.';
COMMENT ON COLUMN import_file.deleted IS 'PMIDs listed in the file''s DeleteCitation elements, once read to its end.';
COMMENT ON COLUMN import_file.status IS 'pending | running (claimed by an importer) | done | failed (refused or interrupted: the next import retries it from its checkpoint).';
COMMENT ON COLUMN import_file.run_id IS 'The import run that last worked on the file.';
COMMENT ON COLUMN import_file.checkpoint IS 'Committed with each loaded batch: {"records": n, "deleted": n} elements of the file loaded so far; a resumed import skips them.';
COMMENT ON COLUMN import_file.claimed_by IS 'The importer (host:pid) holding the file while it is running.';
COMMENT ON COLUMN import_file.heartbeat_at IS 'Last sign of life of that importer; a stale one lets another importer take the file over from its checkpoint.';
COMMENT ON COLUMN import_file.error IS 'Why the last import of the file failed (md5 mismatch, truncated gzip, XML that does not parse, …).';
COMMENT ON COLUMN import_file.created_at IS 'When the file was first seen.';
COMMENT ON COLUMN import_file.started_at IS 'When its latest import started.';
COMMENT ON COLUMN import_file.finished_at IS 'When its latest import ended.';

ALTER TABLE catalogue_record ADD COLUMN IF NOT EXISTS import_order integer;
COMMENT ON COLUMN catalogue_record.import_order IS 'import_file.import_order of the bulk file the current record (or tombstone) came from; null when E-utilities brought it, and then DateRevised decides against a file.';

CREATE TABLE IF NOT EXISTS import_deletion (
  pmid          bigint PRIMARY KEY,
  import_order  integer NOT NULL,
  file_name     text NOT NULL,
  run_id        bigint REFERENCES etl_run (id),
  deleted_at    timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE import_deletion IS 'The latest bulk file whose DeleteCitation listed each PMID, whether or not the record was in the catalogue then: a record from an earlier file does not come back.';
COMMENT ON COLUMN import_deletion.pmid IS 'The deleted PMID.';
COMMENT ON COLUMN import_deletion.import_order IS 'import_file.import_order of that file.';
COMMENT ON COLUMN import_deletion.file_name IS 'That file''s name.';
COMMENT ON COLUMN import_deletion.run_id IS 'The import run that read the deletion.';
COMMENT ON COLUMN import_deletion.deleted_at IS 'When it was read.';

ALTER TABLE catalogue_record_version ADD COLUMN IF NOT EXISTS file_name text;
COMMENT ON COLUMN catalogue_record_version.file_name IS 'For a delete read from a bulk file''s DeleteCitation: the file''s name; null otherwise.';

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubcat_reader') THEN
    RAISE NOTICE 'pubcat_reader does not exist: import_file not granted';
    RETURN;
  END IF;
  GRANT SELECT ON import_file TO pubcat_reader;
END
$$;
