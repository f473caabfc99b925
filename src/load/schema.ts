/**
 * The tables as kysely sees them: the types carry the schema of sql/*.sql so that a query that
 * names a wrong column does not compile. Keep in step with the migrations.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { CatalogueRecord, DerivedFields } from '../transform/types.js';

/** timestamptz: read as Date, written as Date or an SQL expression. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/**
 * bigint columns (PMIDs, run ids): both backends are set up to read int8 as a JS number, exact
 * far beyond any PMID or run count.
 */
type BigIntColumn = number;

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
}
