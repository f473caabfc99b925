-- Every record notes the version of the transform that built it (TRANSFORM_VERSION in
-- src/transform), raised whenever the mapping changes: `pubcat retransform --outdated` rebuilds,
-- from their stored XML, the records an older version built. Rows that existed before versions
-- were recorded were built by version 1.

ALTER TABLE catalogue_record ADD COLUMN transform_version integer NOT NULL DEFAULT 1;
COMMENT ON COLUMN catalogue_record.transform_version IS 'Version of the transform that built this record from its source XML; retransform --outdated rebuilds those built by an older one.';

-- A retransform run rebuilds records from record_source and asks NCBI nothing.
ALTER TABLE etl_run DROP CONSTRAINT etl_run_job_check;
ALTER TABLE etl_run ADD CONSTRAINT etl_run_job_check
  CHECK (job IN ('backfill', 'refresh', 'sync', 'import', 'retransform'));
COMMENT ON COLUMN etl_run.job IS 'backfill | refresh | sync | import | retransform.';

-- A PubMed record older than the one stored (an earlier DateRevised) is not applied: sources
-- never undo each other. The run counts it apart. Records loaded before this column existed get
-- their date with their next load.
ALTER TABLE catalogue_record ADD COLUMN pubmed_revised date;
COMMENT ON COLUMN catalogue_record.pubmed_revised IS 'DateRevised of the PubMed record this version was built from; a record revised earlier is not applied over it.';
ALTER TABLE etl_run ADD COLUMN older integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN etl_run.older IS 'PMIDs whose PubMed record was older than the stored one (an earlier DateRevised), and so not applied.';

CREATE OR REPLACE VIEW v_runs AS
SELECT
  id,
  job,
  status,
  scheduled_for,
  started_at,
  finished_at,
  coalesce(finished_at, heartbeat_at) - started_at AS duration,
  requested,
  inserted,
  updated,
  unchanged,
  deleted,
  missing,
  failed,
  invalid,
  replica,
  error,
  older
FROM etl_run;
COMMENT ON COLUMN v_runs.job IS 'backfill | refresh | sync | import | retransform.';
COMMENT ON COLUMN v_runs.older IS 'PMIDs whose PubMed record was older than the stored one, and so not applied.';
