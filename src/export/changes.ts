/**
 * The records an export delivers, read in the order they changed: pages of (last_changed_at,
 * pmid) after the last one seen (keyset pagination, so each page costs the same however deep the
 * export is, and memory holds one page), up to a cut-off fixed when the export starts.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../load/schema.js';
import type { CatalogueRecord, DerivedFields } from '../transform/types.js';

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
  version: number;
  record: CatalogueRecord;
  derived: DerivedFields;
  title: string | null;
  journal: string | null;
  publish_year: number | null;
  doi: string | null;
  pmcid: string | null;
  first_seen_at: string;
  changed_at: string;
  /** Ids the record had in earlier versions and that no record has now; null for a first version. */
  old_ids: string[] | null;
}

const ISO_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

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

export async function* readChanges(db: Kysely<Database>, after: ChangePosition, cutoff: string, pageSize: number): AsyncGenerator<ExportRow[]> {
  let position = after;
  for (;;) {
    const { rows } = await sql<ExportRow>`
      SELECT r.pmid, r.catalogue_id, r.status, r.version, r.record, r.derived, r.title, r.journal, r.publish_year,
        r.doi, r.pmcid,
        to_char(r.first_seen_at AT TIME ZONE 'UTC', ${ISO_MICROSECONDS}) AS first_seen_at,
        to_char(r.last_changed_at AT TIME ZONE 'UTC', ${ISO_MICROSECONDS}) AS changed_at,
        CASE WHEN r.version > 1 THEN ARRAY(
          SELECT DISTINCT v.catalogue_id FROM catalogue_record_version v
          WHERE v.pmid = r.pmid AND v.catalogue_id <> r.catalogue_id
            AND NOT EXISTS (SELECT 1 FROM catalogue_record o WHERE o.catalogue_id = v.catalogue_id)
        ) END AS old_ids
      FROM catalogue_record r
      WHERE (r.last_changed_at, r.pmid) > (${position.changedAt}::timestamptz, ${position.pmid}::bigint)
        AND r.last_changed_at < ${cutoff}::timestamptz
      ORDER BY r.last_changed_at, r.pmid
      LIMIT ${pageSize}`.execute(db);
    if (rows.length === 0) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    position = { changedAt: last.changed_at, pmid: Number(last.pmid) };
    if (rows.length < pageSize) return;
  }
}

export function positionOf(row: ExportRow): ChangePosition {
  return { changedAt: row.changed_at, pmid: Number(row.pmid) };
}
