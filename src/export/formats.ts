/**
 * How each exported record is written. `solr`: Solr JSON update commands for VuFind's biblio core
 * (an `add` per record, a `delete` per tombstone and per id a record no longer has), one command
 * a line. `jsonl`: the stored record of each active record, one a line. `csv`: one row per record
 * with the typed columns, quoted as RFC 4180 says. PostgreSQL writes each entry (entries.ts);
 * here they are counted and put in order.
 */
import type { ExportRow } from './changes.js';

export const EXPORT_FORMATS = ['solr', 'jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What one page of records became: the entries to write (UTF-8), and what they count as. */
export interface EncodedPage {
  entries: Buffer[];
  records: number;
  deletes: number;
}

export function encodePage(format: ExportFormat, rows: readonly ExportRow[]): EncodedPage {
  const page: EncodedPage = { entries: [], records: 0, deletes: 0 };
  for (const row of rows) {
    if (row.oldDeletes !== undefined) {
      page.entries.push(row.oldDeletes.entries);
      page.deletes += row.oldDeletes.count;
    }
    // A jsonl tombstone has no entry: as a line its last content would read as a live record.
    if (row.entry !== null) page.entries.push(row.entry);
    if (row.deleted) page.deletes += 1;
    else page.records += 1;
  }
  return page;
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

/** `entries` with `separator` between them, and `before` and `after` around them, as one buffer. */
export function joinEntries(entries: readonly Buffer[], separator: string, before = '', after = ''): Buffer {
  const between = Buffer.from(separator);
  const parts: Buffer[] = [Buffer.from(before)];
  entries.forEach((entry, index) => {
    if (index > 0) parts.push(between);
    parts.push(entry);
  });
  parts.push(Buffer.from(after));
  return Buffer.concat(parts);
}
