/**
 * The records an export delivers, read in the order they changed: pages of (last_changed_at,
 * pmid) after the last one seen (keyset pagination, so each page costs the same however deep the
 * export is, and memory holds one page), up to a cut-off fixed when the export starts. PostgreSQL
 * writes each record's JSON as text, in the shape the format needs: parsing the stored documents
 * into objects and writing them out again would cost more than reading them.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../load/schema.js';
import type { ExportFormat } from './formats.js';
import type { CatalogueRecord, DerivedFields } from '../transform/types.js';
import { COPY_FIELD_TARGETS, SENDABLE_FIELDS } from './vufind-schema.js';

/** A place in the change order: after every record changed before `changedAt`, and those changed then with a lower PMID. */
export interface ChangePosition {
  /** ISO time with microseconds (PostgreSQL's precision, finer than a JS Date). */
  changedAt: string;
  pmid: number;
}

export const BEFORE_EVERYTHING: ChangePosition = { changedAt: '-infinity', pmid: 0 };

export interface ExportRow {
  pmid: number;
  catalogue_id: string;
  status: 'active' | 'deleted';
  changed_at: string;
  /** solr: the record and its derived fields without copyField targets, as JSON text. */
  document?: string;
  /** solr: whether every field of `document` is one the core declares. */
  declared?: boolean;
  /** solr: ids the record had in earlier versions and that no record has now. */
  old_ids?: string[];
  /** jsonl: the stored record as JSON text. */
  record?: string;
  /** csv: the typed columns, lists joined with `; `. */
  columns?: Record<string, string | number | null>;
}

const ISO_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';
/** Constant field names, written into the statement (each backend passes array parameters its own way). */
const textArray = (values: readonly string[]): RawBuilder<string[]> => sql.raw(`ARRAY[${values.map((value) => `'${value}'`).join(', ')}]::text[]`);
/**
 * The fields a document holds when the transform wrote it: the declared ones and the dynamic ones
 * it names. Taking them off (`jsonb - text[]`, one pass in C) leaves nothing for such a document;
 * any other field sends the document to formats.ts, which reads it and keeps what the core
 * declares. Comparing each key with the field list in SQL cost more than building the document.
 */
const TRANSFORM_DYNAMIC_FIELDS = ['work_keys_str_mv', 'doi_str_mv'] satisfies (keyof CatalogueRecord | keyof DerivedFields)[];
const EXPECTED_FIELDS_ARRAY = textArray([...SENDABLE_FIELDS, ...TRANSFORM_DYNAMIC_FIELDS]);

const joined = (list: string): RawBuilder<string> =>
  sql<string>`array_to_string(ARRAY(SELECT jsonb_array_elements_text(${sql.raw(list)})), '; ')`;

const FORMAT_COLUMNS: Record<ExportFormat, RawBuilder<unknown>> = {
  solr: sql`d.document::text AS document, (d.document - ${EXPECTED_FIELDS_ARRAY}) = '{}'::jsonb AS declared`,
  jsonl: sql`r.record::text AS record`,
  csv: sql`json_build_object(
    'version', r.version, 'title', r.title, 'journal', r.journal, 'publish_year', r.publish_year,
    'publish_date', r.derived->>'publishDateSort', 'volume', r.derived->>'container_volume',
    'issue', r.derived->>'container_issue', 'start_page', r.derived->>'container_start_page',
    'issn', ${joined("r.derived->'issn'")}, 'doi', r.doi, 'pmcid', r.pmcid,
    'language', ${joined("r.record->'language'")}, 'authors', ${joined("r.record->'author'")},
    'topics', ${joined("r.derived->'topic_facet'")},
    'first_seen_at', to_char(r.first_seen_at AT TIME ZONE 'UTC', ${ISO_MICROSECONDS})) AS columns`,
};

/**
 * The Solr document: the derived fields (none a copyField target), then the record without its
 * copyField targets. OFFSET 0 keeps the document a subquery, built once for both its uses.
 */
const SOLR_DOCUMENT = sql`, LATERAL (SELECT r.derived || (r.record - ${textArray(COPY_FIELD_TARGETS)}) AS document OFFSET 0) d`;

/**
 * Where this export stops: now, or earlier while another transaction on this database is open.
 * A record's last_changed_at is its loading transaction's start, so a transaction still open may
 * yet commit rows stamped before now; stopping before the oldest open one means no row can later
 * appear behind a position already saved. (PostgreSQL shows the start of other roles'
 * transactions only to privileged roles: pubcat's loads and exports run as one role.)
 */
export async function exportCutoff(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ cutoff: string }>`
    SELECT to_char(least(statement_timestamp(), (
      SELECT min(xact_start) FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND datname = current_database() AND xact_start IS NOT NULL
    )) AT TIME ZONE 'UTC', ${ISO_MICROSECONDS}) AS cutoff`.execute(db);
  return rows[0]!.cutoff;
}

export async function countChanges(db: Kysely<Database>, after: ChangePosition, cutoff: string): Promise<number> {
  const { rows } = await sql<{ count: number | string }>`
    SELECT count(*) AS count FROM catalogue_record r
    WHERE (r.last_changed_at, r.pmid) > (${after.changedAt}::timestamptz, ${after.pmid}::bigint)
      AND r.last_changed_at < ${cutoff}::timestamptz`.execute(db);
  return Number(rows[0]!.count);
}

/**
 * The pages in order. The next page is asked for as soon as the last one arrived, so that
 * PostgreSQL reads it while the caller writes the last: two pages in memory at most.
 */
export async function* readChanges(
  db: Kysely<Database>,
  format: ExportFormat,
  after: ChangePosition,
  cutoff: string,
  pageSize: number,
): AsyncGenerator<ExportRow[]> {
  const fetchAfter = (position: ChangePosition): Promise<ExportRow[]> => {
    const page = readPage(db, format, position, cutoff, pageSize);
    // A caller that stops early never awaits the page in flight: its failure is no one's to report.
    page.catch(() => undefined);
    return page;
  };
  let next = fetchAfter(after);
  for (;;) {
    const rows = await next;
    if (rows.length === 0) return;
    const full = rows.length === pageSize;
    if (full) next = fetchAfter(positionOf(rows[rows.length - 1]!));
    yield rows;
    if (!full) return;
  }
}

async function readPage(db: Kysely<Database>, format: ExportFormat, after: ChangePosition, cutoff: string, pageSize: number): Promise<ExportRow[]> {
  const { rows } = await sql<ExportRow & { version: number }>`
    SELECT r.pmid, r.catalogue_id, r.status, r.version,
      to_char(r.last_changed_at AT TIME ZONE 'UTC', ${ISO_MICROSECONDS}) AS changed_at, ${FORMAT_COLUMNS[format]}
    FROM catalogue_record r${format === 'solr' ? SOLR_DOCUMENT : sql``}
    WHERE (r.last_changed_at, r.pmid) > (${after.changedAt}::timestamptz, ${after.pmid}::bigint)
      AND r.last_changed_at < ${cutoff}::timestamptz
    ORDER BY r.last_changed_at, r.pmid
    LIMIT ${pageSize}`.execute(db);
  if (format === 'solr') await addOldIds(db, rows);
  return rows;
}

/** Only a record past its first version can have had another id: those few are looked up apart. */
async function addOldIds(db: Kysely<Database>, rows: (ExportRow & { version: number })[]): Promise<void> {
  const revised = rows.filter((row) => row.version > 1).map((row) => Number(row.pmid));
  if (revised.length === 0) return;
  const { rows: found } = await sql<{ pmid: number | string; ids: string[] }>`
    SELECT v.pmid, array_agg(DISTINCT v.catalogue_id) AS ids FROM catalogue_record_version v
    WHERE v.pmid IN (SELECT value::bigint FROM jsonb_array_elements_text(${JSON.stringify(revised)}::jsonb))
      AND NOT EXISTS (SELECT 1 FROM catalogue_record o WHERE o.catalogue_id = v.catalogue_id)
    GROUP BY v.pmid`.execute(db);
  const byPmid = new Map(found.map((row) => [Number(row.pmid), row.ids]));
  for (const row of rows) row.old_ids = byPmid.get(Number(row.pmid));
}

export function positionOf(row: ExportRow): ChangePosition {
  return { changedAt: row.changed_at, pmid: Number(row.pmid) };
}
