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
        page.entries.push(`"add":{"doc":${solrDocument(row)}}`);
        page.records += 1;
      }
    } else if (format === 'jsonl') {
      // A tombstone's stored record is its last content: as a line it would read as a live record.
      if (row.status === 'deleted') {
        page.deletes += 1;
      } else {
        page.entries.push(row.record!);
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

/**
 * The record and its derived fields (container, ISSN, MeSH and genre facets) as PostgreSQL wrote
 * them, copyField targets already left out. A field the core does not declare (none that the
 * transform writes today) is left out here, at the cost of reading the document.
 */
function solrDocument(row: ExportRow): string {
  if (row.declared === true) return row.document!;
  const document = JSON.parse(row.document!) as Record<string, unknown>;
  for (const field of Object.keys(document)) if (!isSendableField(field)) delete document[field];
  return JSON.stringify(document);
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

function csvRow(row: ExportRow): string {
  const cells: Record<string, string | number | null | undefined> = {
    ...row.columns,
    pmid: row.pmid,
    catalogue_id: row.catalogue_id,
    status: row.status,
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
