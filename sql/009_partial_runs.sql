-- A run that finished with PMIDs given up after every retry is `partial`, not `succeeded`:
-- schedulers, CI and analysts must be able to tell a run that loaded everything from one that
-- did not. Its failed PMIDs are retried by the next run of the same input or job.

ALTER TABLE etl_run DROP CONSTRAINT etl_run_status_check;
ALTER TABLE etl_run ADD CONSTRAINT etl_run_status_check
  CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'abandoned'));

COMMENT ON COLUMN etl_run.status IS 'running | succeeded (every PMID loaded, unchanged, deleted or missing) | partial (finished, but some PMIDs failed: see failed and error) | failed (could not finish: see error; the same command resumes it) | abandoned (superseded by a run that resumed it).';
COMMENT ON COLUMN etl_run.error IS 'Why a failed run failed, or what a partial run could not load.';
COMMENT ON COLUMN v_runs.status IS 'running | succeeded | partial (finished with failed PMIDs) | failed | abandoned.';
COMMENT ON COLUMN v_runs.error IS 'Why it failed, or what a partial run could not load.';
