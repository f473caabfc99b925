-- Views for analysts who query the catalogue directly. They hide the bookkeeping columns and
-- unpack the most used fields of the record document.

CREATE VIEW v_record AS
SELECT
  r.pmid,
  r.catalogue_id,
  r.status,
  r.version,
  r.title,
  r.journal,
  r.publish_year,
  r.doi,
  r.pmcid,
  ARRAY(SELECT jsonb_array_elements_text(coalesce(r.record -> 'author', '[]'::jsonb))) AS authors,
  ARRAY(SELECT jsonb_array_elements_text(coalesce(r.record -> 'language', '[]'::jsonb))) AS languages,
  r.record ->> 'description' AS abstract,
  r.first_seen_at,
  r.last_changed_at,
  r.last_checked_at,
  r.record,
  r.derived
FROM catalogue_record r;

COMMENT ON VIEW v_record IS 'One row per PMID with the fields analysts filter on; status deleted rows are tombstones.';
COMMENT ON COLUMN v_record.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN v_record.catalogue_id IS 'The id in the catalogue (pubmed-<PMC number> or pmid-<PMID>).';
COMMENT ON COLUMN v_record.status IS 'active | deleted.';
COMMENT ON COLUMN v_record.version IS 'Current version number.';
COMMENT ON COLUMN v_record.title IS 'Article or book title.';
COMMENT ON COLUMN v_record.journal IS 'Journal or book title.';
COMMENT ON COLUMN v_record.publish_year IS 'Publication year.';
COMMENT ON COLUMN v_record.doi IS 'DOI, when known.';
COMMENT ON COLUMN v_record.pmcid IS 'PMC id, when the article is in PMC.';
COMMENT ON COLUMN v_record.authors IS 'Authors as "Family, Given", in order.';
COMMENT ON COLUMN v_record.languages IS 'Languages by name (English, German, ...).';
COMMENT ON COLUMN v_record.abstract IS 'The abstract text (the record''s description).';
COMMENT ON COLUMN v_record.first_seen_at IS 'When the PMID was first loaded.';
COMMENT ON COLUMN v_record.last_changed_at IS 'When its content last changed.';
COMMENT ON COLUMN v_record.last_checked_at IS 'When NCBI was last asked for it.';
COMMENT ON COLUMN v_record.record IS 'The whole catalogue record document.';
COMMENT ON COLUMN v_record.derived IS 'Derived fields (journal volume/issue/pages, ISSN, DOIs, MeSH, publication types).';

CREATE VIEW v_facet_counts AS
SELECT f.facet, f.value, count(*)::bigint AS records
FROM record_facet f
JOIN catalogue_record r ON r.pmid = f.pmid AND r.status = 'active'
GROUP BY f.facet, f.value;

COMMENT ON VIEW v_facet_counts IS 'How many active records carry each facet value.';
COMMENT ON COLUMN v_facet_counts.facet IS 'Facet name: author, year, language, format, journal, topic (MeSH, keywords), publication_type.';
COMMENT ON COLUMN v_facet_counts.value IS 'Facet value.';
COMMENT ON COLUMN v_facet_counts.records IS 'Number of active records with that value.';

CREATE VIEW v_record_history AS
SELECT
  v.pmid,
  v.version,
  v.op,
  v.changed_at,
  v.changed_fields,
  v.catalogue_id,
  v.run_id,
  run.job,
  v.record
FROM catalogue_record_version v
LEFT JOIN etl_run run ON run.id = v.run_id;

COMMENT ON VIEW v_record_history IS 'Every version of every record: what changed, when, and by which run.';
COMMENT ON COLUMN v_record_history.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN v_record_history.version IS 'Version number.';
COMMENT ON COLUMN v_record_history.op IS 'insert | update | delete | restore.';
COMMENT ON COLUMN v_record_history.changed_at IS 'When the change was committed.';
COMMENT ON COLUMN v_record_history.changed_fields IS 'Fields whose value changed from the previous version.';
COMMENT ON COLUMN v_record_history.catalogue_id IS 'Catalogue id at that version.';
COMMENT ON COLUMN v_record_history.run_id IS 'The run that made the change.';
COMMENT ON COLUMN v_record_history.job IS 'That run''s job (backfill, refresh, sync, import).';
COMMENT ON COLUMN v_record_history.record IS 'The record as it was at that version.';

CREATE VIEW v_runs AS
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
  error
FROM etl_run;

COMMENT ON VIEW v_runs IS 'Pipeline runs with their counters and duration, newest last by id.';
COMMENT ON COLUMN v_runs.id IS 'Run number.';
COMMENT ON COLUMN v_runs.job IS 'backfill | refresh | sync | import.';
COMMENT ON COLUMN v_runs.status IS 'running | succeeded | failed | abandoned.';
COMMENT ON COLUMN v_runs.scheduled_for IS 'Cron fire time for scheduled runs, null for manual ones.';
COMMENT ON COLUMN v_runs.started_at IS 'Start.';
COMMENT ON COLUMN v_runs.finished_at IS 'End (null while running).';
COMMENT ON COLUMN v_runs.duration IS 'Elapsed time (to the last heartbeat while running).';
COMMENT ON COLUMN v_runs.requested IS 'PMIDs asked for.';
COMMENT ON COLUMN v_runs.inserted IS 'Records new to the catalogue.';
COMMENT ON COLUMN v_runs.updated IS 'Records changed.';
COMMENT ON COLUMN v_runs.unchanged IS 'Records fetched with identical content.';
COMMENT ON COLUMN v_runs.deleted IS 'Records tombstoned.';
COMMENT ON COLUMN v_runs.missing IS 'PMIDs NCBI did not return.';
COMMENT ON COLUMN v_runs.failed IS 'PMIDs given up after retries.';
COMMENT ON COLUMN v_runs.invalid IS 'Input lines that were not PMIDs.';
COMMENT ON COLUMN v_runs.replica IS 'Process that ran it.';
COMMENT ON COLUMN v_runs.error IS 'Why it failed.';
