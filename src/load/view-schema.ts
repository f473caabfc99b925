/**
 * The analysts' views (sql/002 and later, what `pubcat_reader` reads) as kysely sees them: the
 * same columns as the migrations give them, read-only.
 */
import type { ColumnType } from 'kysely';
import type { CatalogueRecord, DerivedFields } from '../transform/types.js';
import type { RecordStatus, RunJob, RunStatus, VersionOp } from './schema.js';

/** A view's column: read, never written. */
type ViewColumn<T> = ColumnType<T, never, never>;

/** The analysts' views: what `pubcat_reader` reads (sql/002 and later). */
export interface RecordView {
  pmid: ViewColumn<number>;
  catalogue_id: ViewColumn<string>;
  status: ViewColumn<RecordStatus>;
  version: ViewColumn<number>;
  title: ViewColumn<string | null>;
  journal: ViewColumn<string | null>;
  publish_year: ViewColumn<number | null>;
  doi: ViewColumn<string | null>;
  pmcid: ViewColumn<string | null>;
  authors: ViewColumn<string[]>;
  languages: ViewColumn<string[]>;
  abstract: ViewColumn<string | null>;
  first_seen_at: ViewColumn<Date>;
  last_changed_at: ViewColumn<Date>;
  last_checked_at: ViewColumn<Date>;
  record: ViewColumn<CatalogueRecord>;
  derived: ViewColumn<DerivedFields>;
  journal_abbreviation: ViewColumn<string | null>;
  issn: ViewColumn<string[] | null>;
  volume: ViewColumn<string | null>;
  issue: ViewColumn<string | null>;
  pages: ViewColumn<string | null>;
  publish_date: ViewColumn<Date | string | null>;
  publication_types: ViewColumn<string[] | null>;
  /** sql/018: title and abstract for full-text search (`search_text @@ websearch_to_tsquery(…)`). */
  search_text: ViewColumn<string>;
}

export interface FacetCountsView {
  facet: ViewColumn<string>;
  value: ViewColumn<string>;
  records: ViewColumn<number>;
}

export interface RecordHistoryView {
  pmid: ViewColumn<number>;
  version: ViewColumn<number>;
  op: ViewColumn<VersionOp>;
  changed_at: ViewColumn<Date>;
  changed_fields: ViewColumn<string[]>;
  catalogue_id: ViewColumn<string>;
  run_id: ViewColumn<number | null>;
  job: ViewColumn<RunJob | null>;
  record: ViewColumn<CatalogueRecord>;
  reason: ViewColumn<string | null>;
}

export interface RecordChangesView {
  pmid: ViewColumn<number>;
  version: ViewColumn<number>;
  op: ViewColumn<VersionOp>;
  changed_at: ViewColumn<Date>;
  run_id: ViewColumn<number | null>;
  field: ViewColumn<string>;
  old_value: ViewColumn<unknown>;
  new_value: ViewColumn<unknown>;
}

export interface RunsView {
  id: ViewColumn<number>;
  job: ViewColumn<RunJob>;
  status: ViewColumn<RunStatus>;
  scheduled_for: ViewColumn<Date | null>;
  started_at: ViewColumn<Date>;
  finished_at: ViewColumn<Date | null>;
  /** interval, as the driver reads it. */
  duration: ViewColumn<unknown>;
  requested: ViewColumn<number>;
  inserted: ViewColumn<number>;
  updated: ViewColumn<number>;
  unchanged: ViewColumn<number>;
  deleted: ViewColumn<number>;
  missing: ViewColumn<number>;
  failed: ViewColumn<number>;
  invalid: ViewColumn<number>;
  older: ViewColumn<number>;
  replica: ViewColumn<string>;
  error: ViewColumn<string | null>;
}

