-- Why a record was tombstoned: NCBI deleted the citation, or stopped returning it. Analysts see
-- it in v_record_history (the view gains the column at its end, which CREATE OR REPLACE allows).

ALTER TABLE catalogue_record_version
  ADD COLUMN reason text CHECK (reason IN ('delete-citation', 'missing'));

COMMENT ON COLUMN catalogue_record_version.reason IS 'Why a delete happened: delete-citation (NCBI deleted the citation) or missing (not returned in two runs in a row); null for other operations.';

CREATE OR REPLACE VIEW v_record_history AS
SELECT
  v.pmid,
  v.version,
  v.op,
  v.changed_at,
  v.changed_fields,
  v.catalogue_id,
  v.run_id,
  run.job,
  v.record,
  v.reason
FROM catalogue_record_version v
LEFT JOIN etl_run run ON run.id = v.run_id;

COMMENT ON COLUMN v_record_history.reason IS 'For a delete: delete-citation or missing.';
