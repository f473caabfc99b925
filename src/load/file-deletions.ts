/**
 * DeleteCitations read from NCBI's bulk files, under the rule that order never matters: the
 * catalogue after importing files in any order equals the one after importing them in NCBI's
 * order. So a deletion is kept (import_deletion) even when its PMID is not in the catalogue yet,
 * a deletion does not touch a record that came from a later file, and a record loaded from a file
 * earlier than a deletion kept for it is tombstoned again at once (as if the deletion had come
 * after it, as it does in NCBI's order).
 *
 * A deletion and a record of the same PMID loaded at once by two importers must not miss each
 * other (each reading the other's state before it committed). A batch with deletions therefore
 * holds an exclusive transaction lock and a batch of records a shared one, both taken first
 * thing in the batch's transaction: batches of records run together, a batch of deletions runs
 * alone. Deletions are rare (update files only, a few hundred per file), so the wait is short.
 */
import { sql, type Transaction } from 'kysely';
import { bigintArray, textArray } from './array-params.js';
import type { Backend } from './db.js';
import type { Database } from './schema.js';

/** Where a batch read from a bulk file comes from. */
export interface FileOrigin {
  /** import_file.import_order of the file. */
  importOrder: number;
  fileName: string;
}

/** The advisory lock key of file deletions ('pubcat-d' as eight bytes). */
const DELETIONS_LOCK = sql`7049636704936126820`;

/** Takes the batch's lock on file deletions (see the module comment); first thing in the transaction. */
export async function lockForFileBatch(trx: Transaction<Database>, hasDeletions: boolean): Promise<void> {
  await (hasDeletions ? sql`SELECT pg_advisory_xact_lock(${DELETIONS_LOCK}::bigint)` : sql`SELECT pg_advisory_xact_lock_shared(${DELETIONS_LOCK}::bigint)`).execute(trx);
}

export interface FileDeletionResult {
  /** Records tombstoned now. */
  tombstoned: number;
  /** PMIDs whose record came from a later file: left as they are. */
  older: number;
}

/** Notes the file's deletions and tombstones the records they apply to. */
export async function applyFileDeletions(
  trx: Transaction<Database>,
  backend: Backend,
  pmids: readonly number[],
  runId: number,
  origin: FileOrigin,
): Promise<FileDeletionResult> {
  const order = origin.importOrder;
  const { rows } = await sql<{ outcome: 'tombstoned' | 'older' | 'other'; n: number | string }>`
    WITH wanted AS (
      SELECT DISTINCT pmid FROM unnest(${bigintArray(backend, pmids)}::bigint[]) AS t(pmid)
    ),
    noted AS (
      INSERT INTO import_deletion AS d (pmid, import_order, file_name, run_id)
      SELECT pmid, ${order}::int, ${origin.fileName}, ${runId} FROM wanted
      ON CONFLICT (pmid) DO UPDATE SET import_order = excluded.import_order, file_name = excluded.file_name,
        run_id = excluded.run_id, deleted_at = now()
      WHERE d.import_order <= excluded.import_order
    ),
    gone AS (
      UPDATE catalogue_record c
      SET status = 'deleted', version = c.version + 1, last_changed_at = now(), last_run_id = ${runId}
      FROM wanted w
      WHERE c.pmid = w.pmid AND c.status = 'active' AND (c.import_order IS NULL OR c.import_order <= ${order}::int)
      RETURNING c.pmid, c.version, c.catalogue_id, c.content_hash, c.record
    ),
    -- As tombstones.ts: the superseded version keeps its record in history, the tombstone's is catalogue_record's.
    superseded AS (
      UPDATE catalogue_record_version v SET record = gone.record
      FROM gone WHERE v.pmid = gone.pmid AND v.version = gone.version - 1 AND v.record IS NULL
    ),
    history AS (
      INSERT INTO catalogue_record_version (pmid, version, op, run_id, catalogue_id, content_hash, reason, file_name)
      SELECT pmid, version, 'delete', ${runId}, catalogue_id, content_hash, 'delete-citation', ${origin.fileName} FROM gone
    )
    SELECT CASE WHEN gone.pmid IS NOT NULL THEN 'tombstoned' WHEN c.import_order > ${order}::int THEN 'older' ELSE 'other' END AS outcome,
      count(*) AS n
    FROM wanted w
    LEFT JOIN gone USING (pmid)
    LEFT JOIN catalogue_record c ON c.pmid = w.pmid
    GROUP BY 1
  `.execute(trx);
  const count = (outcome: string): number => Number(rows.find((row) => row.outcome === outcome)?.n ?? 0);
  return { tombstoned: count('tombstoned'), older: count('older') };
}

/**
 * Tombstones again the records just written from a file that a deletion in the same or a later
 * file has already removed; returns how many.
 */
export async function reapplyLaterDeletions(
  trx: Transaction<Database>,
  backend: Backend,
  written: readonly number[],
  runId: number,
  origin: FileOrigin,
): Promise<number> {
  if (written.length === 0) return 0;
  const { rows } = await sql<{ n: number | string }>`
    WITH later AS (
      SELECT d.pmid, d.file_name FROM import_deletion d
      WHERE d.pmid = ANY(${bigintArray(backend, written)}::bigint[]) AND d.import_order >= ${origin.importOrder}::int
    ),
    gone AS (
      UPDATE catalogue_record c
      SET status = 'deleted', version = c.version + 1, last_changed_at = now(), last_run_id = ${runId}
      FROM later l WHERE c.pmid = l.pmid AND c.status = 'active'
      RETURNING c.pmid, c.version, c.catalogue_id, c.content_hash, c.record, l.file_name
    ),
    superseded AS (
      UPDATE catalogue_record_version v SET record = gone.record
      FROM gone WHERE v.pmid = gone.pmid AND v.version = gone.version - 1 AND v.record IS NULL
    ),
    history AS (
      INSERT INTO catalogue_record_version (pmid, version, op, run_id, catalogue_id, content_hash, reason, file_name)
      SELECT pmid, version, 'delete', ${runId}, catalogue_id, content_hash, 'delete-citation', file_name FROM gone
    )
    SELECT count(*) AS n FROM gone
  `.execute(trx);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Records of the batch that a deletion in the same or a later file has tombstoned with this very
 * content: nothing to write (a restore and a delete would only come back to the same tombstone).
 */
export async function deletedUnchanged(
  trx: Transaction<Database>,
  backend: Backend,
  rows: ReadonlyArray<{ pmid: number; content_hash: string }>,
  origin: FileOrigin,
): Promise<Set<number>> {
  if (rows.length === 0) return new Set();
  const { rows: unchanged } = await sql<{ pmid: number | string }>`
    SELECT c.pmid
    FROM unnest(${bigintArray(backend, rows.map((row) => row.pmid))}::bigint[], ${textArray(backend, rows.map((row) => row.content_hash))}::text[]) AS i(pmid, content_hash)
    JOIN catalogue_record c ON c.pmid = i.pmid AND c.status = 'deleted' AND c.content_hash = i.content_hash
    JOIN import_deletion d ON d.pmid = i.pmid AND d.import_order >= ${origin.importOrder}::int
  `.execute(trx);
  return new Set(unchanged.map((row) => Number(row.pmid)));
}
