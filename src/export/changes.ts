/**
 * The records an export delivers, read in the order they changed: pages of (last_changed_at,
 * pmid) after the last one seen (keyset pagination, so each page costs the same however deep the
 * export is, and memory holds one page), up to a cut-off fixed when the export starts. Each page
 * is one binary COPY whose rows carry the record's entry in its format's final shape
 * (entries.ts): the bytes PostgreSQL wrote go out as they came.
 */
import { sql, type Kysely } from 'kysely';
import { binaryCopyRows, type CopyOut } from '../load/copy-out.js';
import type { Database } from '../load/schema.js';
import { FORMAT_QUERIES, ISO_MICROSECONDS } from './entries.js';
import type { ExportFormat } from './formats.js';

/** A place in the change order: after every record changed before `changedAt`, and those changed then with a lower PMID. */
export interface ChangePosition {
  /** ISO time with microseconds (PostgreSQL's precision, finer than a JS Date). */
  changedAt: string;
  pmid: number;
}

export const BEFORE_EVERYTHING: ChangePosition = { changedAt: '-infinity', pmid: 0 };

export interface ExportRow {
  position: ChangePosition;
  deleted: boolean;
  /** The record as its format writes it (UTF-8); null for a tombstone in jsonl. */
  entry: Buffer | null;
  /** solr: the deletes of ids the record had in earlier versions and that no record has now. */
  oldDeletes?: { count: number; entries: Buffer };
}

/** What an export reads from: its database's queries, and its binary COPY. */
export interface ExportDatabase {
  db: Kysely<Database>;
  copyOut: CopyOut;
}

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
  database: ExportDatabase,
  format: ExportFormat,
  after: ChangePosition,
  cutoff: string,
  pageSize: number,
): AsyncGenerator<ExportRow[]> {
  const fetchAfter = (position: ChangePosition): Promise<ExportRow[]> => {
    const page = readPage(database, format, position, cutoff, pageSize);
    // A caller that stops early never awaits the page in flight: its failure is no one's to report.
    page.catch(() => undefined);
    return page;
  };
  let next = fetchAfter(after);
  for (;;) {
    const rows = await next;
    if (rows.length === 0) return;
    const full = rows.length === pageSize;
    if (full) next = fetchAfter(rows[rows.length - 1]!.position);
    yield rows;
    if (!full) return;
  }
}

async function readPage(database: ExportDatabase, format: ExportFormat, after: ChangePosition, cutoff: string, pageSize: number): Promise<ExportRow[]> {
  const { from, entry, oldDeletes } = FORMAT_QUERIES[format];
  // A COPY takes no parameters: the values are written into it as literals.
  const query = sql`
    SELECT to_char(r.last_changed_at AT TIME ZONE 'UTC', ${sql.lit(ISO_MICROSECONDS)}), r.pmid::text, r.status, ${entry}, ${oldDeletes}
    FROM catalogue_record r${from}
    WHERE (r.last_changed_at, r.pmid) > (${sql.lit(after.changedAt)}::timestamptz, ${sql.lit(Math.trunc(after.pmid))}::bigint)
      AND r.last_changed_at < ${sql.lit(cutoff)}::timestamptz
    ORDER BY r.last_changed_at, r.pmid
    LIMIT ${sql.lit(Math.trunc(pageSize))}`.compile(database.db);
  if (query.parameters.length > 0) throw new Error('an export page query took parameters, which COPY cannot');
  return binaryCopyRows(await database.copyOut(query.sql)).map(([changedAt, pmid, status, entry, oldCount, oldEntries]) => ({
    position: { changedAt: changedAt!.toString('latin1'), pmid: Number(pmid!.toString('latin1')) },
    deleted: status!.toString('latin1') === 'deleted',
    entry: entry ?? null,
    ...(oldEntries ? { oldDeletes: { count: Number(oldCount!.toString('latin1')), entries: oldEntries } } : {}),
  }));
}
