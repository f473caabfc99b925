/**
 * What PostgreSQL writes for each exported record, in its format's final shape, so that the
 * export hands the bytes on as they come (copy-out.ts) and never builds a document in JS:
 * - solr: an `add` command for the record and its derived fields without copyField targets, or a
 *   `delete` for a tombstone; and apart, the `delete`s of ids the record had before and no record
 *   has now;
 * - jsonl: the stored record (nothing for a tombstone, whose stored record is its last content);
 * - csv: one row of the typed columns, quoted as RFC 4180 says.
 */
import { sql, type RawBuilder } from 'kysely';
import type { CatalogueRecord, DerivedFields } from '../transform/types.js';
import { CSV_COLUMNS, SOLR_SEPARATOR, type ExportFormat } from './formats.js';
import { COPY_FIELD_TARGETS, DYNAMIC_SUFFIXES, SENDABLE_FIELDS } from './vufind-schema.js';

export const ISO_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** Constant field names, written into the statement (a COPY takes no parameters). */
const textArray = (values: readonly string[]): RawBuilder<string[]> => sql.raw(`ARRAY[${values.map((value) => `'${value}'`).join(', ')}]::text[]`);

/**
 * The fields a document holds when the transform wrote it: the declared ones and the dynamic ones
 * it names. Taking them off (`jsonb - text[]`, one pass in C) leaves nothing for such a document;
 * only a document with other fields has its keys read, to drop those the core does not declare.
 * Comparing every key with the field list in SQL cost more than building the document.
 */
const TRANSFORM_DYNAMIC_FIELDS = ['work_keys_str_mv', 'doi_str_mv'] satisfies (keyof CatalogueRecord | keyof DerivedFields)[];
const EXPECTED_FIELDS = textArray([...SENDABLE_FIELDS, ...TRANSFORM_DYNAMIC_FIELDS]);
const DYNAMIC_FIELD = sql.lit(`.(${DYNAMIC_SUFFIXES.join('|')})$`);

const solrDelete = (id: RawBuilder<string>): RawBuilder<string> => sql<string>`'"delete":{"id":' || to_json(${id})::text || '}'`;

/**
 * The document: the derived fields (none a copyField target), then the record without its
 * copyField targets. OFFSET 0 keeps it a subquery, built once for its two uses.
 */
const SOLR_FROM = sql`, LATERAL (SELECT r.derived || (r.record - ${textArray(COPY_FIELD_TARGETS)}) AS document OFFSET 0) d
  LEFT JOIN LATERAL (
    SELECT count(*)::text AS count, string_agg(${solrDelete(sql`o.catalogue_id`)}, ${sql.lit(SOLR_SEPARATOR)} ORDER BY o.catalogue_id) AS entries
    FROM (
      SELECT DISTINCT v.catalogue_id FROM catalogue_record_version v
      WHERE r.version > 1 AND v.pmid = r.pmid AND NOT EXISTS (SELECT 1 FROM catalogue_record c WHERE c.catalogue_id = v.catalogue_id)
    ) o
  ) old ON true`;

const SOLR_ENTRY = sql`CASE WHEN r.status = 'deleted' THEN ${solrDelete(sql`r.catalogue_id`)}
  ELSE '"add":{"doc":' || (CASE WHEN (d.document - ${EXPECTED_FIELDS}) = '{}'::jsonb THEN d.document
    ELSE d.document - ARRAY(SELECT field FROM jsonb_object_keys(d.document - ${EXPECTED_FIELDS}) AS k (field) WHERE field !~ ${DYNAMIC_FIELD})
  END)::text || '}' END`;

const joined = (list: string): RawBuilder<string> =>
  sql<string>`array_to_string(ARRAY(SELECT jsonb_array_elements_text(${sql.raw(list)})), '; ')`;

/** Each of CSV_COLUMNS as text. */
const CSV_CELLS: Record<(typeof CSV_COLUMNS)[number], RawBuilder<unknown>> = {
  pmid: sql`r.pmid::text`,
  catalogue_id: sql`r.catalogue_id`,
  status: sql`r.status`,
  version: sql`r.version::text`,
  title: sql`r.title`,
  journal: sql`r.journal`,
  publish_year: sql`r.publish_year::text`,
  publish_date: sql`r.derived->>'publishDateSort'`,
  volume: sql`r.derived->>'container_volume'`,
  issue: sql`r.derived->>'container_issue'`,
  start_page: sql`r.derived->>'container_start_page'`,
  issn: joined("r.derived->'issn'"),
  doi: sql`r.doi`,
  pmcid: sql`r.pmcid`,
  language: joined("r.record->'language'"),
  authors: joined("r.record->'author'"),
  topics: joined("r.derived->'topic_facet'"),
  first_seen_at: sql`to_char(r.first_seen_at AT TIME ZONE 'UTC', ${sql.lit(ISO_MICROSECONDS)})`,
  last_changed_at: sql`to_char(r.last_changed_at AT TIME ZONE 'UTC', ${sql.lit(ISO_MICROSECONDS)})`,
};

/** The cells, computed once each (OFFSET 0 keeps the subquery) for the quoting test and the value. */
const CSV_FROM = sql`, LATERAL (SELECT ${sql.join(CSV_COLUMNS.map((column) => sql`${CSV_CELLS[column]} AS ${sql.ref(column)}`))} OFFSET 0) c`;

/** RFC 4180: a cell holding a comma, a quote or a line break is quoted, its quotes doubled; NULL is empty. */
const csvCell = (column: string): RawBuilder<string> => {
  const cell = sql.ref(`c.${column}`);
  return sql<string>`CASE WHEN ${cell} ~ '[",\r\n]' THEN '"' || replace(${cell}, '"', '""') || '"' ELSE coalesce(${cell}, '') END`;
};
const CSV_ENTRY = sql.join(CSV_COLUMNS.map(csvCell), sql` || ',' || `);

export interface FormatQuery {
  /** Joined to `catalogue_record r`. */
  from: RawBuilder<unknown>;
  entry: RawBuilder<unknown>;
  /** solr: the number of old ids' deletes, and the deletes themselves. */
  oldDeletes: RawBuilder<unknown>;
}

export const FORMAT_QUERIES: Record<ExportFormat, FormatQuery> = {
  solr: { from: SOLR_FROM, entry: SOLR_ENTRY, oldDeletes: sql`old.count, old.entries` },
  jsonl: { from: sql``, entry: sql`CASE WHEN r.status = 'active' THEN r.record::text END`, oldDeletes: sql`NULL, NULL` },
  csv: { from: CSV_FROM, entry: CSV_ENTRY, oldDeletes: sql`NULL, NULL` },
};
