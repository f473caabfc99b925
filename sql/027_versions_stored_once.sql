-- Each version of a record is stored once. The current version's record is catalogue_record's;
-- its history row keeps no copy (record is null) until a later version supersedes it, when the
-- statement that writes the later version moves the record it replaces into that row. A first
-- load so writes each record's document once instead of twice (measured: the history copy and
-- its compression were a fifth of the database's work in a first load). v_record_history still
-- shows every version's record, the current one read from catalogue_record.

ALTER TABLE catalogue_record_version ALTER COLUMN record DROP NOT NULL;

COMMENT ON COLUMN catalogue_record_version.record IS 'The catalogue record as it was at this version; null for the current version, whose record is catalogue_record.record (v_record_history shows both).';
COMMENT ON TABLE catalogue_record_version IS 'Append-only history: one row for every insert, content change, tombstone and restore of a record. The record document is kept for superseded versions only (see record).';

-- Existing catalogues: the current version's copy goes, where it is the record catalogue_record
-- holds (always, as pubcat writes them; a copy that differs is kept and shown).
UPDATE catalogue_record_version v SET record = NULL
FROM catalogue_record c
WHERE c.pmid = v.pmid AND c.version = v.version AND v.record = c.record;

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
  coalesce(v.record, current_version.record) AS record,
  v.reason
FROM catalogue_record_version v
LEFT JOIN catalogue_record current_version
  ON current_version.pmid = v.pmid AND current_version.version = v.version AND v.record IS NULL
LEFT JOIN etl_run run ON run.id = v.run_id;

COMMENT ON COLUMN v_record_history.record IS 'The record as it was at that version (the current version''s from catalogue_record).';

-- The field changes of a version read the new values from catalogue_record: the version a
-- statement writes is the current one. The version before it was superseded by the same
-- statement, which moved its record into its history row first.
CREATE OR REPLACE FUNCTION pubcat_write_record_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO record_change (pmid, version, op, changed_at, run_id, field, old_value, new_value)
  SELECT v.pmid, v.version, v.op, v.changed_at, v.run_id, c.field, previous.record -> c.field,
    coalesce(v.record, current_version.record) -> c.field
  FROM new_versions v
  JOIN catalogue_record_version previous ON previous.pmid = v.pmid AND previous.version = v.version - 1
  LEFT JOIN catalogue_record current_version ON current_version.pmid = v.pmid AND current_version.version = v.version
  CROSS JOIN LATERAL unnest(pubcat_record_fields(v.changed_fields)) AS c(field)
  WHERE v.op IN ('update', 'restore') AND cardinality(v.changed_fields) > 0
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
