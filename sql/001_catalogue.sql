-- The catalogue: one current row per PMID, an append-only version history, facet rows for
-- analysts, and the source XML each record was built from.

CREATE TABLE etl_run (
  id            bigserial PRIMARY KEY,
  job           text NOT NULL CHECK (job IN ('backfill', 'refresh', 'sync', 'import')),
  scheduled_for timestamptz,
  status        text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  requested     integer NOT NULL DEFAULT 0,
  inserted      integer NOT NULL DEFAULT 0,
  updated       integer NOT NULL DEFAULT 0,
  unchanged     integer NOT NULL DEFAULT 0,
  deleted       integer NOT NULL DEFAULT 0,
  missing       integer NOT NULL DEFAULT 0,
  failed        integer NOT NULL DEFAULT 0,
  invalid       integer NOT NULL DEFAULT 0,
  input_key     text,
  params        jsonb NOT NULL DEFAULT '{}'::jsonb,
  checkpoint    jsonb,
  error         text,
  replica       text NOT NULL
);

COMMENT ON TABLE etl_run IS 'One row per pipeline run (manual backfill, scheduled refresh or sync, bulk import), with live counters and the checkpoint a restarted run resumes from.';
COMMENT ON COLUMN etl_run.id IS 'Run number; catalogue_record_version.run_id points here.';
COMMENT ON COLUMN etl_run.job IS 'backfill | refresh | sync | import.';
COMMENT ON COLUMN etl_run.scheduled_for IS 'The cron fire time a scheduled run was claimed for; null for runs started by hand.';
COMMENT ON COLUMN etl_run.status IS 'running | succeeded | failed | abandoned (its process stopped heart-beating and another took over or gave up).';
COMMENT ON COLUMN etl_run.started_at IS 'When the run was claimed.';
COMMENT ON COLUMN etl_run.heartbeat_at IS 'Last sign of life from the process running it; a stale heartbeat lets another replica take over.';
COMMENT ON COLUMN etl_run.finished_at IS 'When the run ended (null while running).';
COMMENT ON COLUMN etl_run.requested IS 'Distinct valid PMIDs the run was asked for so far.';
COMMENT ON COLUMN etl_run.inserted IS 'Records new to the catalogue.';
COMMENT ON COLUMN etl_run.updated IS 'Records whose content changed (a new version), including restored tombstones.';
COMMENT ON COLUMN etl_run.unchanged IS 'Records fetched again with identical content (nothing written).';
COMMENT ON COLUMN etl_run.deleted IS 'Records tombstoned (DeleteCitation, or missing on two consecutive runs).';
COMMENT ON COLUMN etl_run.missing IS 'PMIDs NCBI did not return, even when asked singly.';
COMMENT ON COLUMN etl_run.failed IS 'PMIDs given up after every retry (network or NCBI errors); a rerun retries them.';
COMMENT ON COLUMN etl_run.invalid IS 'Input lines that were not a PMID and were skipped.';
COMMENT ON COLUMN etl_run.input_key IS 'Fingerprint of the run''s input (arguments, file, query) so a restart with the same input resumes this run.';
COMMENT ON COLUMN etl_run.params IS 'The arguments the run was started with.';
COMMENT ON COLUMN etl_run.checkpoint IS 'Progress committed with the last loaded batch (e.g. input position); where a resumed run starts.';
COMMENT ON COLUMN etl_run.error IS 'Why a failed run failed.';
COMMENT ON COLUMN etl_run.replica IS 'The process that ran it (host:pid).';

-- A scheduled job is claimed once per fire time, and never runs twice at once.
CREATE UNIQUE INDEX etl_run_claim_once ON etl_run (job, scheduled_for) WHERE scheduled_for IS NOT NULL;
CREATE UNIQUE INDEX etl_run_no_overlap ON etl_run (job) WHERE status = 'running' AND job IN ('refresh', 'sync');
CREATE INDEX etl_run_resume ON etl_run (input_key) WHERE status IN ('running', 'failed', 'abandoned');
CREATE INDEX etl_run_started ON etl_run (started_at DESC);

CREATE TABLE catalogue_record (
  pmid             bigint PRIMARY KEY CHECK (pmid > 0),
  catalogue_id     text NOT NULL UNIQUE,
  version          integer NOT NULL DEFAULT 1 CHECK (version > 0),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
  content_hash     text NOT NULL,
  record           jsonb NOT NULL,
  derived          jsonb NOT NULL DEFAULT '{}'::jsonb,
  title            text,
  journal          text,
  publish_year     integer,
  doi              text,
  pmcid            text,
  first_seen_at    timestamptz NOT NULL DEFAULT now(),
  last_changed_at  timestamptz NOT NULL DEFAULT now(),
  last_checked_at  timestamptz NOT NULL DEFAULT now(),
  last_run_id      bigint REFERENCES etl_run (id)
);

COMMENT ON TABLE catalogue_record IS 'The current catalogue record of each PMID ever loaded; deleted PMIDs stay as tombstones (status deleted).';
COMMENT ON COLUMN catalogue_record.pmid IS 'PubMed identifier; the key. The catalogue id may change, the PMID does not.';
COMMENT ON COLUMN catalogue_record.catalogue_id IS 'The record''s id in the catalogue: pubmed-<PMC number> when the article is in PMC, else pmid-<PMID>.';
COMMENT ON COLUMN catalogue_record.version IS 'Number of the current version; catalogue_record_version holds every version.';
COMMENT ON COLUMN catalogue_record.status IS 'active | deleted (tombstone: NCBI deleted the citation or stopped returning it).';
COMMENT ON COLUMN catalogue_record.content_hash IS 'sha256 (hex) of the canonical JSON of record and derived; equal hash means nothing to write.';
COMMENT ON COLUMN catalogue_record.record IS 'The catalogue record (VuFind/Solr document) exactly as pubcat show --json prints it.';
COMMENT ON COLUMN catalogue_record.derived IS 'Fields derived beyond the catalogue record, with VuFind names: container_title, container_volume, container_issue, container_start_page, issn, doi_str_mv, topic_facet, genre_facet, publishDateSort.';
COMMENT ON COLUMN catalogue_record.title IS 'The title, as in record->>''title''.';
COMMENT ON COLUMN catalogue_record.journal IS 'Journal (or book) title, as in derived->>''container_title''.';
COMMENT ON COLUMN catalogue_record.publish_year IS 'Publication year, from record->''publishDate''.';
COMMENT ON COLUMN catalogue_record.doi IS 'The article DOI, when it has one.';
COMMENT ON COLUMN catalogue_record.pmcid IS 'The PMC id (PMC1234567), when the article is in PMC.';
COMMENT ON COLUMN catalogue_record.first_seen_at IS 'When the PMID was first loaded.';
COMMENT ON COLUMN catalogue_record.last_changed_at IS 'When the content last changed (insert, update, delete or restore).';
COMMENT ON COLUMN catalogue_record.last_checked_at IS 'When NCBI was last asked for this PMID; refresh re-fetches the oldest first.';
COMMENT ON COLUMN catalogue_record.last_run_id IS 'The run that wrote the current version.';

CREATE INDEX catalogue_record_stale ON catalogue_record (last_checked_at) WHERE status = 'active';
CREATE INDEX catalogue_record_changed ON catalogue_record (last_changed_at);
CREATE INDEX catalogue_record_journal_year ON catalogue_record (journal, publish_year);
CREATE INDEX catalogue_record_doi ON catalogue_record (doi) WHERE doi IS NOT NULL;

CREATE TABLE catalogue_record_version (
  pmid            bigint NOT NULL REFERENCES catalogue_record (pmid),
  version         integer NOT NULL CHECK (version > 0),
  op              text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'restore')),
  run_id          bigint REFERENCES etl_run (id),
  changed_at      timestamptz NOT NULL DEFAULT now(),
  changed_fields  text[] NOT NULL DEFAULT '{}',
  catalogue_id    text NOT NULL,
  content_hash    text NOT NULL,
  record          jsonb NOT NULL,
  PRIMARY KEY (pmid, version)
);

COMMENT ON TABLE catalogue_record_version IS 'Append-only history: one row for every insert, content change, tombstone and restore of a record.';
COMMENT ON COLUMN catalogue_record_version.pmid IS 'The PMID the version belongs to.';
COMMENT ON COLUMN catalogue_record_version.version IS 'Version number, 1 for the first load, one more for each change.';
COMMENT ON COLUMN catalogue_record_version.op IS 'insert | update | delete | restore.';
COMMENT ON COLUMN catalogue_record_version.run_id IS 'The run that made the change.';
COMMENT ON COLUMN catalogue_record_version.changed_at IS 'When the change was committed.';
COMMENT ON COLUMN catalogue_record_version.changed_fields IS 'Record (and derived) fields whose value differs from the previous version; empty for insert and delete.';
COMMENT ON COLUMN catalogue_record_version.catalogue_id IS 'The catalogue id at this version (an earlier id stays findable here after it changes).';
COMMENT ON COLUMN catalogue_record_version.content_hash IS 'Content hash of this version.';
COMMENT ON COLUMN catalogue_record_version.record IS 'The catalogue record as it was at this version.';

CREATE INDEX catalogue_record_version_changed ON catalogue_record_version (changed_at);
CREATE INDEX catalogue_record_version_run ON catalogue_record_version (run_id);
CREATE INDEX catalogue_record_version_catalogue_id ON catalogue_record_version (catalogue_id);

CREATE TABLE record_facet (
  pmid   bigint NOT NULL REFERENCES catalogue_record (pmid) ON DELETE CASCADE,
  facet  text NOT NULL,
  value  text NOT NULL,
  PRIMARY KEY (pmid, facet, value)
);

COMMENT ON TABLE record_facet IS 'Facet values of each current record, one row per (facet, value): author, year, language, format, journal, topic (MeSH, keywords), publication_type.';
COMMENT ON COLUMN record_facet.pmid IS 'The record.';
COMMENT ON COLUMN record_facet.facet IS 'Facet name (see v_facet_counts for the names in use).';
COMMENT ON COLUMN record_facet.value IS 'Facet value as displayed.';

CREATE INDEX record_facet_lookup ON record_facet (facet, value);

CREATE TABLE record_source (
  pmid             bigint PRIMARY KEY REFERENCES catalogue_record (pmid) ON DELETE CASCADE,
  pubmed_xml       text NOT NULL,
  pmc_article_xml  text,
  pmc_summary_xml  text,
  fetched_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE record_source IS 'The NCBI XML each current record was built from, so a transform change can be re-applied without fetching again.';
COMMENT ON COLUMN record_source.pmid IS 'The record.';
COMMENT ON COLUMN record_source.pubmed_xml IS 'The PubmedArticle or PubmedBookArticle element exactly as efetch returned it.';
COMMENT ON COLUMN record_source.pmc_article_xml IS 'The PMC JATS article element (efetch db=pmc) used, if any.';
COMMENT ON COLUMN record_source.pmc_summary_xml IS 'The esummary db=pmc document summary used, if any.';
COMMENT ON COLUMN record_source.fetched_at IS 'When this XML was fetched.';

CREATE TABLE missing_pmid (
  pmid                bigint PRIMARY KEY,
  first_missing_at    timestamptz NOT NULL DEFAULT now(),
  last_missing_at     timestamptz NOT NULL DEFAULT now(),
  miss_count          integer NOT NULL DEFAULT 1,
  consecutive_misses  integer NOT NULL DEFAULT 1,
  last_run_id         bigint REFERENCES etl_run (id)
);

COMMENT ON TABLE missing_pmid IS 'PMIDs that were asked for and that NCBI did not return (not even singly).';
COMMENT ON COLUMN missing_pmid.pmid IS 'The PMID.';
COMMENT ON COLUMN missing_pmid.first_missing_at IS 'First run it was missing in.';
COMMENT ON COLUMN missing_pmid.last_missing_at IS 'Latest run it was missing in.';
COMMENT ON COLUMN missing_pmid.miss_count IS 'How many runs it was missing in.';
COMMENT ON COLUMN missing_pmid.consecutive_misses IS 'Runs in a row it was missing in; a known record missing twice in a row is tombstoned. Reset when NCBI returns it.';
COMMENT ON COLUMN missing_pmid.last_run_id IS 'The latest run it was missing in.';

CREATE TABLE saved_search (
  name            text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*$'),
  query           text NOT NULL CHECK (length(query) > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  synced_until    timestamptz,
  last_run_id     bigint REFERENCES etl_run (id)
);

COMMENT ON TABLE saved_search IS 'PubMed queries that the sync job runs for new and modified records.';
COMMENT ON COLUMN saved_search.name IS 'Short name used on the command line.';
COMMENT ON COLUMN saved_search.query IS 'The PubMed query (esearch term).';
COMMENT ON COLUMN saved_search.created_at IS 'When it was added.';
COMMENT ON COLUMN saved_search.synced_until IS 'End of the modification-date window whose records are loaded; the next sync starts here (with overlap). Null: never synced, the first sync loads every hit.';
COMMENT ON COLUMN saved_search.last_run_id IS 'The sync run that last advanced synced_until.';
