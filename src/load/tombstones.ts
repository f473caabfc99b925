/**
 * Deletions. NCBI says a citation is gone in two ways: a DeleteCitation element, or by no longer
 * returning the PMID. A record is never removed: it becomes a tombstone (status deleted, version
 * + 1, a `delete` history row keeping its last record), and comes back as a `restore` if NCBI
 * returns it again (see upsert.ts).
 *
 * A PMID not returned is only a hint (NCBI has outages and indexing lags), so it is tombstoned
 * after it was missing in two runs with no successful fetch between them, whatever runs that
 * did not ask for it came in between; a successful fetch (upsertBatch) resets the count. A miss
 * in a batch where NCBI looked unhealthy (missing-guard.ts) is recorded but does not count.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

export type DeleteReason = 'delete-citation' | 'missing';

export interface DeleteResult {
  /** PMIDs that became tombstones now. */
  tombstoned: number[];
  /** PMIDs that were tombstones already: nothing written. */
  alreadyDeleted: number;
  /** PMIDs never loaded: nothing to tombstone. */
  unknown: number;
}

/** Misses in a row after which a known record is tombstoned. */
export const MISSES_BEFORE_DELETE = 2;

export async function markDeleted(
  db: Kysely<Database>,
  pmids: readonly number[],
  runId: number,
  reason: DeleteReason,
): Promise<DeleteResult> {
  // The UPDATE re-reads a row another loader changed meanwhile, so version + 1 and the record
  // kept in history are those of the latest version. A tombstone asked about again was checked
  // too: it moves back in the line of records `refresh --include-deleted` asks for.
  const { rows } = await sql<{ pmid: number | string; outcome: 'tombstoned' | 'already-deleted' | 'unknown' }>`
    WITH wanted AS (
      SELECT DISTINCT value::bigint AS pmid FROM jsonb_array_elements_text(${JSON.stringify(pmids)}::jsonb)
    ),
    gone AS (
      UPDATE catalogue_record c
      SET status = 'deleted', version = c.version + 1, last_changed_at = now(), last_checked_at = now(),
        last_run_id = ${runId}
      FROM wanted w WHERE c.pmid = w.pmid AND c.status = 'active'
      RETURNING c.pmid, c.version, c.catalogue_id, c.content_hash, c.record
    ),
    -- The version the tombstone supersedes keeps its record in history from now on; the
    -- tombstone's own is catalogue_record's (sql/027).
    superseded AS (
      UPDATE catalogue_record_version v SET record = gone.record
      FROM gone WHERE v.pmid = gone.pmid AND v.version = gone.version - 1 AND v.record IS NULL
    ),
    history AS (
      INSERT INTO catalogue_record_version (pmid, version, op, run_id, catalogue_id, content_hash, reason)
      SELECT pmid, version, 'delete', ${runId}, catalogue_id, content_hash, ${reason} FROM gone
    ),
    rechecked AS (
      UPDATE catalogue_record c SET last_checked_at = now()
      FROM wanted w WHERE c.pmid = w.pmid AND c.status = 'deleted'
    )
    SELECT w.pmid,
      CASE WHEN gone.pmid IS NOT NULL THEN 'tombstoned' WHEN c.pmid IS NULL THEN 'unknown' ELSE 'already-deleted' END AS outcome
    FROM wanted w
    LEFT JOIN gone USING (pmid)
    LEFT JOIN catalogue_record c ON c.pmid = w.pmid
    ORDER BY w.pmid
  `.execute(db);
  return {
    tombstoned: rows.filter((row) => row.outcome === 'tombstoned').map((row) => Number(row.pmid)),
    alreadyDeleted: rows.filter((row) => row.outcome === 'already-deleted').length,
    unknown: rows.filter((row) => row.outcome === 'unknown').length,
  };
}

/**
 * Notes the PMIDs a run asked for and NCBI did not return (a PMID counts once per run), and
 * returns those that are active records missing for the MISSES_BEFORE_DELETE-th time in a row:
 * the caller tombstones them with markDeleted(…, 'missing').
 *
 * Their records count as checked: the next refresh asks for them at their usual turn, beside the
 * records asked with them now. Left at the head of its line instead, every miss of a run would
 * land in the next run's first batch, and a batch made of misses looks like an NCBI outage.
 */
export async function recordMissing(db: Kysely<Database>, pmids: readonly number[], runId: number): Promise<number[]> {
  const { rows } = await sql<{ pmid: number | string }>`
    WITH missed AS (
      SELECT DISTINCT value::bigint AS pmid FROM jsonb_array_elements_text(${JSON.stringify(pmids)}::jsonb)
    ),
    counted AS (
      INSERT INTO missing_pmid AS m (pmid, last_run_id)
      SELECT pmid, ${runId} FROM missed
      ON CONFLICT (pmid) DO UPDATE SET last_missing_at = now(), miss_count = m.miss_count + 1,
        consecutive_misses = m.consecutive_misses + 1, last_run_id = excluded.last_run_id
      WHERE m.last_run_id IS DISTINCT FROM excluded.last_run_id
      RETURNING m.pmid, m.consecutive_misses
    ),
    checked AS (
      UPDATE catalogue_record c SET last_checked_at = now() FROM missed WHERE c.pmid = missed.pmid
    )
    SELECT counted.pmid FROM counted
    JOIN catalogue_record c ON c.pmid = counted.pmid AND c.status = 'active'
    WHERE counted.consecutive_misses >= ${MISSES_BEFORE_DELETE}
    ORDER BY counted.pmid
  `.execute(db);
  return rows.map((row) => Number(row.pmid));
}

/**
 * Notes misses that NCBI's state at the time makes worthless as evidence (see missing-guard.ts):
 * they show in missing_pmid like any miss, but the run of misses in a row neither grows nor
 * ends, and their records stay unchecked so that the next run asks for them first. Returns the
 * active records among them: whether those are gone is what this run could not settle.
 */
export async function recordUnsettledMissing(db: Kysely<Database>, pmids: readonly number[], runId: number): Promise<number[]> {
  const { rows } = await sql<{ pmid: number | string }>`
    WITH missed AS (
      SELECT DISTINCT value::bigint AS pmid FROM jsonb_array_elements_text(${JSON.stringify(pmids)}::jsonb)
    ),
    noted AS (
      INSERT INTO missing_pmid AS m (pmid, last_run_id, consecutive_misses)
      SELECT pmid, ${runId}, 0 FROM missed
      ON CONFLICT (pmid) DO UPDATE SET last_missing_at = now(), miss_count = m.miss_count + 1, last_run_id = excluded.last_run_id
      WHERE m.last_run_id IS DISTINCT FROM excluded.last_run_id
    )
    SELECT missed.pmid FROM missed
    JOIN catalogue_record c ON c.pmid = missed.pmid AND c.status = 'active'
    ORDER BY missed.pmid
  `.execute(db);
  return rows.map((row) => Number(row.pmid));
}
