-- Where each named export left off, so that `pubcat export --target NAME` run again (by cron, say)
-- writes only what changed since, and an index downstream stays in step with the catalogue.

CREATE TABLE export_target (
  name            text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'),
  format          text NOT NULL CHECK (format IN ('solr', 'jsonl', 'csv')),
  changed_until   timestamptz NOT NULL,
  changed_pmid    bigint NOT NULL,
  exported_at     timestamptz NOT NULL DEFAULT now(),
  records         bigint NOT NULL DEFAULT 0
);

COMMENT ON TABLE export_target IS 'Named exports (pubcat export --target NAME) and the last record each one delivered.';
COMMENT ON COLUMN export_target.name IS 'The name given with --target.';
COMMENT ON COLUMN export_target.format IS 'solr | jsonl | csv: the format of the last export under this name.';
COMMENT ON COLUMN export_target.changed_until IS 'last_changed_at of the last record delivered; the next export starts after it (with changed_pmid).';
COMMENT ON COLUMN export_target.changed_pmid IS 'PMID of the last record delivered: records changed at the same instant are ordered by PMID.';
COMMENT ON COLUMN export_target.exported_at IS 'When the position was last saved.';
COMMENT ON COLUMN export_target.records IS 'Records delivered under this name, all exports together.';

-- An export reads records in (last_changed_at, pmid) order, a page at a time after the last one.
CREATE INDEX catalogue_record_changed_pmid ON catalogue_record (last_changed_at, pmid);
