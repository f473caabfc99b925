-- Enrich runs, and scheduled imports that never overlap.

-- An enrich run fetches the PMC parts (front matter and summary) of active records that have a
-- PMC id and none stored, such as those a bulk-file import brought, and rebuilds them with the
-- stored PubMed XML, as a backfill would have built them.
ALTER TABLE etl_run DROP CONSTRAINT etl_run_job_check;
ALTER TABLE etl_run ADD CONSTRAINT etl_run_job_check
  CHECK (job IN ('backfill', 'refresh', 'sync', 'import', 'retransform', 'enrich'));
COMMENT ON COLUMN etl_run.job IS 'backfill | refresh | sync | import | retransform | enrich.';
COMMENT ON COLUMN v_runs.job IS 'backfill | refresh | sync | import | retransform | enrich.';

-- The scheduled `import --remote updates` never runs twice at once, whichever replica claimed
-- it; imports started by hand are not held back by it.
CREATE UNIQUE INDEX etl_run_no_overlap_scheduled_import ON etl_run (job) WHERE status = 'running' AND job = 'import' AND scheduled_for IS NOT NULL;
