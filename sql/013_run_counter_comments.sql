-- What the run counters count since records can fail alone and tombstones wait for a healthy
-- NCBI: every requested PMID lands in exactly one of inserted, updated, unchanged, deleted,
-- missing and failed.

COMMENT ON COLUMN etl_run.deleted IS 'PMIDs tombstoned or confirmed deleted in this run: a DeleteCitation (also for a PMID never loaded), or missing on two runs in a row.';
COMMENT ON COLUMN etl_run.missing IS 'PMIDs NCBI did not return, even asked again, that this run did not tombstone.';
COMMENT ON COLUMN etl_run.failed IS 'PMIDs not loaded: given up after every retry, refused by the database (the reason is logged), or held back because too many PMIDs of the run came back missing; the next run asks for them again.';
COMMENT ON COLUMN v_runs.deleted IS 'PMIDs tombstoned or confirmed deleted (DeleteCitation, or missing twice in a row).';
COMMENT ON COLUMN v_runs.missing IS 'PMIDs NCBI did not return, not tombstoned by this run.';
COMMENT ON COLUMN v_runs.failed IS 'PMIDs not loaded: given up after retries, refused by the database, or held back in an NCBI outage.';
