-- v_record_changes read both versions' whole records (de-TOASTed, decompressed) for each change
-- it listed: "what changed since yesterday" cost as much as reading every changed record twice.
-- The changes are kept instead as rows, written when the version is (a statement-level trigger
-- over the versions the statement inserted), and the view reads those.

CREATE TABLE IF NOT EXISTS record_change (
  pmid        bigint NOT NULL,
  version     integer NOT NULL,
  op          text NOT NULL,
  changed_at  timestamptz NOT NULL,
  run_id      bigint,
  field       text NOT NULL,
  old_value   jsonb,
  new_value   jsonb,
  PRIMARY KEY (pmid, version, field)
);

COMMENT ON TABLE record_change IS 'One row per changed field of each update or restore, with the values before and after; written with the version (v_record_changes shows it).';
COMMENT ON COLUMN record_change.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN record_change.version IS 'The version that made the change.';
COMMENT ON COLUMN record_change.op IS 'update | restore.';
COMMENT ON COLUMN record_change.changed_at IS 'When the change was committed.';
COMMENT ON COLUMN record_change.run_id IS 'The run that made the change.';
COMMENT ON COLUMN record_change.field IS 'A record field, or derived.<name> for a derived field.';
COMMENT ON COLUMN record_change.old_value IS 'The JSON value before; null when absent, and for derived.* fields.';
COMMENT ON COLUMN record_change.new_value IS 'The JSON value after; null when removed, and for derived.* fields.';

CREATE INDEX IF NOT EXISTS record_change_changed_at ON record_change (changed_at);

CREATE OR REPLACE FUNCTION pubcat_write_record_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO record_change (pmid, version, op, changed_at, run_id, field, old_value, new_value)
  SELECT v.pmid, v.version, v.op, v.changed_at, v.run_id, c.field, previous.record -> c.field, v.record -> c.field
  FROM new_versions v
  JOIN catalogue_record_version previous ON previous.pmid = v.pmid AND previous.version = v.version - 1
  CROSS JOIN LATERAL unnest(pubcat_record_fields(v.changed_fields)) AS c(field)
  WHERE v.op IN ('update', 'restore') AND cardinality(v.changed_fields) > 0
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

COMMENT ON FUNCTION pubcat_write_record_changes() IS 'Trigger on catalogue_record_version: writes the record_change rows of the versions a statement inserted.';

DROP TRIGGER IF EXISTS catalogue_record_version_changes ON catalogue_record_version;
CREATE TRIGGER catalogue_record_version_changes AFTER INSERT ON catalogue_record_version
  REFERENCING NEW TABLE AS new_versions FOR EACH STATEMENT EXECUTE FUNCTION pubcat_write_record_changes();

INSERT INTO record_change (pmid, version, op, changed_at, run_id, field, old_value, new_value)
SELECT v.pmid, v.version, v.op, v.changed_at, v.run_id, c.field, previous.record -> c.field, v.record -> c.field
FROM catalogue_record_version v
JOIN catalogue_record_version previous ON previous.pmid = v.pmid AND previous.version = v.version - 1
CROSS JOIN LATERAL unnest(pubcat_record_fields(v.changed_fields)) AS c(field)
WHERE v.op IN ('update', 'restore') AND cardinality(v.changed_fields) > 0
ON CONFLICT DO NOTHING;

CREATE OR REPLACE VIEW v_record_changes AS
SELECT pmid, version, op, changed_at, run_id, field, old_value, new_value FROM record_change;
