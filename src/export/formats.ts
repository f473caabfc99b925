/**
 * How each exported record is written. `solr`: Solr JSON update commands for VuFind's biblio core
 * (an `add` per record, a `delete` per tombstone and per id a record no longer has), one command
 * a line. `jsonl`: the stored record of each active record, one a line. `csv`: one row per record
 * with the typed columns, quoted as RFC 4180 says.
 */
import type { ExportRow } from './changes.js';
import { isSendableField } from './vufind-schema.js';

export const EXPORT_FORMATS = ['solr', 'jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What one page of records became: the entries to write, and what they count as. */
export interface EncodedPage {
  entries: string[];
  records: number;
  deletes: number;
}

export function encodePage(format: ExportFormat, rows: readonly ExportRow[]): EncodedPage {
  const page: EncodedPage = { entries: [], records: 0, deletes: 0 };
  for (const row of rows) {
    if (format === 'solr') {
      for (const id of row.old_ids ?? []) {
        page.entries.push(solrDelete(id));
        page.deletes += 1;
      }
      if (row.status === 'deleted') {
        page.entries.push(solrDelete(row.catalogue_id));
        page.deletes += 1;
      } else {
        page.entries.push(`"add":{"doc":${JSON.stringify(solrDocument(row))}}`);
        page.records += 1;
      }
    } else if (format === 'jsonl') {
      // A tombstone's stored record is its last content: as a line it would read as a live record.
      if (row.status === 'deleted') {
        page.deletes += 1;
      } else {
        page.entries.push(JSON.stringify(row.record));
        page.records += 1;
      }
    } else {
      page.entries.push(csvRow(row));
      if (row.status === 'deleted') page.deletes += 1;
      else page.records += 1;
    }
  }
  return page;
}

function solrDelete(id: string): string {
  return `"delete":{"id":${JSON.stringify(id)}}`;
}

/** The record and its derived fields (container, ISSN, MeSH and genre facets), minus what the core does not take. */
export function solrDocument(row: Pick<ExportRow, 'record' | 'derived'>): Record<string, unknown> {
  const document: Record<string, unknown> = {};
  for (const source of [row.derived, row.record] as Record<string, unknown>[]) {
    for (const field in source) {
      if (isSendableField(field)) document[field] = source[field];
    }
  }
  return document;
}

/** How the solr entries of a whole export are framed: one JSON object, one command a line. */
export const SOLR_OPEN = '{\n';
export const SOLR_SEPARATOR = ',\n';
export const SOLR_CLOSE = '\n}\n';

export const CSV_COLUMNS = [
  'pmid', 'catalogue_id', 'status', 'version', 'title', 'journal', 'publish_year', 'publish_date', 'volume', 'issue',
  'start_page', 'issn', 'doi', 'pmcid', 'language', 'authors', 'topics', 'first_seen_at', 'last_changed_at',
] as const;

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/** Lists inside one cell (authors, languages, ISSNs, topics) are joined with this. */
const LIST_SEPARATOR = '; ';

function csvRow(row: ExportRow): string {
  const { record, derived } = row;
  const cells: Record<(typeof CSV_COLUMNS)[number], string | number | null | undefined> = {
    pmid: row.pmid,
    catalogue_id: row.catalogue_id,
    status: row.status,
    version: row.version,
    title: row.title,
    journal: row.journal,
    publish_year: row.publish_year,
    publish_date: derived.publishDateSort,
    volume: derived.container_volume,
    issue: derived.container_issue,
    start_page: derived.container_start_page,
    issn: derived.issn?.join(LIST_SEPARATOR),
    doi: row.doi,
    pmcid: row.pmcid,
    language: record.language?.join(LIST_SEPARATOR),
    authors: record.author?.join(LIST_SEPARATOR),
    topics: derived.topic_facet?.join(LIST_SEPARATOR),
    first_seen_at: row.first_seen_at,
    last_changed_at: row.changed_at,
  };
  return CSV_COLUMNS.map((column) => csvCell(cells[column])).join(',');
}

/** RFC 4180: a cell holding a comma, a quote or a line break is quoted, its quotes doubled. */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
