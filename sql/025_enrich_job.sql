-- An enrich run fetches the PMC parts (front matter and summary) of active records that have a
-- PMC id and none stored, such as those a bulk-file import brought, and rebuilds them with the
-- stored PubMed XML, as a backfill would have built them.
ALTER TABLE etl_run DROP CONSTRAINT etl_run_job_check;
ALTER TABLE etl_run ADD CONSTRAINT etl_run_job_check
  CHECK (job IN ('backfill', 'refresh', 'sync', 'import', 'retransform', 'enrich'));
COMMENT ON COLUMN etl_run.job IS 'backfill | refresh | sync | import | retransform | enrich.';
COMMENT ON COLUMN v_runs.job IS 'backfill | refresh | sync | import | retransform | enrich.';
