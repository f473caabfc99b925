/**
 * The tables as kysely sees them: the types carry the schema of sql/*.sql so that a query that
 * names a wrong column does not compile. Keep in step with the migrations.
 */
import type { ColumnType, Generated, GeneratedAlways, JSONColumnType } from 'kysely';
import type { CatalogueRecord, DerivedFields } from '../transform/types.js';
import type { FacetCountsView, RecordChangesView, RecordHistoryView, RecordView, RunsView } from './view-schema.js';

/** timestamptz: read as Date, written as Date or an SQL expression. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/**
 * bigint columns (PMIDs, run ids): both backends are set up to read int8 as a JS number, exact
 * far beyond any PMID or run count.
 */
type BigIntColumn = number;

export type { FacetCountsView, RecordChangesView, RecordHistoryView, RecordView, RunsView } from './view-schema.js';

export type RunJob = 'backfill' | 'refresh' | 'sync' | 'import' | 'retransform' | 'enrich';
export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'abandoned';
export type RecordStatus = 'active' | 'deleted';
export type VersionOp = 'insert' | 'update' | 'delete' | 'restore';

export interface EtlRunTable {
  id: Generated<number>;
  job: RunJob;
  scheduled_for: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  status: Generated<RunStatus>;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  requested: Generated<number>;
  inserted: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  deleted: Generated<number>;
  missing: Generated<number>;
  failed: Generated<number>;
  invalid: Generated<number>;
  /** sql/014: PubMed records older than the stored ones, not applied. */
  older: Generated<number>;
  input_key: string | null;
  params: JSONColumnType<Record<string, unknown>, string | undefined, string>;
  checkpoint: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  /** sql/006: where a run made of parts (sync: one part per saved search) stands. */
  stage: JSONColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  error: string | null;
  replica: string;
}

export interface CatalogueRecordTable {
  pmid: BigIntColumn;
  catalogue_id: string;
  version: Generated<number>;
  status: Generated<RecordStatus>;
  content_hash: string;
  record: JSONColumnType<CatalogueRecord>;
  derived: JSONColumnType<DerivedFields, string | undefined, string>;
  title: string | null;
  journal: string | null;
  publish_year: number | null;
  doi: string | null;
  pmcid: string | null;
  first_seen_at: Timestamp;
  last_changed_at: Timestamp;
  last_checked_at: Timestamp;
  last_run_id: BigIntColumn | null;
  /** sql/014: the TRANSFORM_VERSION that built the record. */
  transform_version: Generated<number>;
  /** sql/014: the PubMed record's DateRevised (YYYY-MM-DD), when known. */
  pubmed_revised: ColumnType<Date | string | null, string | null | undefined, string | null>;
  /** sql/026: import_file.import_order of the bulk file the record came from; null for E-utilities. */
  import_order: ColumnType<number | null, number | null | undefined, number | null>;
  /** sql/015: typed columns PostgreSQL generates from `derived`. */
  issn: GeneratedAlways<string[] | null>;
  volume: GeneratedAlways<string | null>;
  issue: GeneratedAlways<string | null>;
  start_page: GeneratedAlways<string | null>;
  publish_date: GeneratedAlways<Date | string | null>;
  publication_types: GeneratedAlways<string[] | null>;
}

export interface CatalogueRecordVersionTable {
  pmid: BigIntColumn;
  version: number;
  op: VersionOp;
  run_id: BigIntColumn | null;
  changed_at: Timestamp;
  changed_fields: Generated<string[]>;
  catalogue_id: string;
  content_hash: string;
  /** sql/027: null for the current version, whose record is catalogue_record's (v_record_history shows both). */
  record: JSONColumnType<CatalogueRecord | null, string | null | undefined, string | null>;
  /** sql/004: why a delete happened (delete-citation | missing); null for other operations. */
  reason: ColumnType<string | null, string | null | undefined, string | null>;
  /** sql/026: the bulk file whose DeleteCitation made a delete. */
  file_name: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface RecordFacetTable {
  pmid: BigIntColumn;
  facet: string;
  value: string;
}

export interface RecordSourceTable {
  pmid: BigIntColumn;
  pubmed_xml: string;
  pmc_article_xml: string | null;
  pmc_summary_xml: string | null;
  fetched_at: Timestamp;
}

export interface MissingPmidTable {
  pmid: BigIntColumn;
  first_missing_at: Timestamp;
  last_missing_at: Timestamp;
  miss_count: Generated<number>;
  consecutive_misses: Generated<number>;
  last_run_id: BigIntColumn | null;
}

export interface SavedSearchTable {
  name: string;
  query: string;
  created_at: Timestamp;
  synced_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_run_id: BigIntColumn | null;
}

/** sql/026: one row per NCBI bulk file pubcat import has seen. */
export interface ImportFileTable {
  name: string;
  series: string;
  sequence: number;
  import_order: number;
  size: number;
  md5: string | null;
  records: number | null;
  deleted: number | null;
  status: ColumnType<ImportFileStatus, ImportFileStatus | undefined, ImportFileStatus>;
  run_id: BigIntColumn | null;
  checkpoint: JSONColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  claimed_by: string | null;
  heartbeat_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  error: string | null;
  created_at: Timestamp;
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type ImportFileStatus = 'pending' | 'running' | 'done' | 'failed';

/** sql/026: the latest bulk file whose DeleteCitation listed each PMID. */
export interface ImportDeletionTable {
  pmid: BigIntColumn;
  import_order: number;
  file_name: string;
  run_id: BigIntColumn | null;
  deleted_at: Timestamp;
}

/** sql/015: one row per MeSH heading and qualifier of a record (the heading alone has no qualifier). */
export interface RecordMeshTable {
  pmid: BigIntColumn;
  /** The heading's place in the record, from 1. */
  heading: number;
  descriptor: string;
  descriptor_ui: string;
  qualifier: string | null;
  qualifier_ui: string | null;
  major_topic: boolean;
}

/** sql/015: what a record's citation has beyond `derived`. */
export interface RecordCitationTable {
  pmid: BigIntColumn;
  journal_abbreviation: string | null;
  pages: string | null;
}

/** sql/017: where each named export (pubcat export --target) left off. */
export interface ExportTargetTable {
  name: string;
  format: 'solr' | 'jsonl' | 'csv';
  changed_until: ColumnType<Date, Date | string, Date | string>;
  changed_pmid: BigIntColumn;
  exported_at: Timestamp;
  records: ColumnType<number, number | undefined, number>;
}

/** sql/020: active records per facet value, kept as loads change them; v_facet_counts adds facet_count_change. */
export interface FacetCountTable {
  facet: string;
  value: string;
  records: number;
}

/** sql/020: changes to facet_count not folded into it yet. */
export interface FacetCountChangeTable {
  facet: string;
  value: string;
  records: number;
}

/** sql/024: one row per changed field of each version, with the old and the new value. */
export interface RecordChangeTable {
  pmid: BigIntColumn;
  version: number;
  op: VersionOp;
  changed_at: Timestamp;
  run_id: BigIntColumn | null;
  field: string;
  /** Any JSON value (a field's value), or null where the field was absent. */
  old_value: ColumnType<unknown, string | null, string | null>;
  new_value: ColumnType<unknown, string | null, string | null>;
}

export interface SchemaMigrationTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export interface Database {
  etl_run: EtlRunTable;
  catalogue_record: CatalogueRecordTable;
  catalogue_record_version: CatalogueRecordVersionTable;
  record_facet: RecordFacetTable;
  record_source: RecordSourceTable;
  missing_pmid: MissingPmidTable;
  saved_search: SavedSearchTable;
  schema_migrations: SchemaMigrationTable;
  import_file: ImportFileTable;
  import_deletion: ImportDeletionTable;
  record_mesh: RecordMeshTable;
  record_citation: RecordCitationTable;
  export_target: ExportTargetTable;
  facet_count: FacetCountTable;
  facet_count_change: FacetCountChangeTable;
  record_change: RecordChangeTable;
  v_record: RecordView;
  v_facet_counts: FacetCountsView;
  v_record_history: RecordHistoryView;
  v_record_changes: RecordChangesView;
  v_runs: RunsView;
}
