/**
 * Undoes the tombstones one run wrote (`pubcat restore --run N`), for when that run believed an
 * NCBI that was failing. Each record the run tombstoned gets back the record it had before, as a
 * new version with op `restore` whose run_id names the run it undoes, and is active again. A
 * record that changed after the tombstone (NCBI served it again, or it was restored already) is
 * left as it is: the later change knows more than the undo does.
 */
import { sql, type Kysely } from 'kysely';
import { InputError } from '../errors.js';
import type { Database, RunJob } from './schema.js';

export interface RestoreResult {
  runId: number;
  job: RunJob;
  /** Records the run tombstoned. */
  tombstones: number;
  /** Records active again now. */
  restored: number[];
  /** Records an earlier restore of the same run brought back already: nothing written. */
  alreadyRestored: number;
  /** Records changed since the tombstone in some other way: left alone. */
  changedSince: number;
}

type Outcome = 'restored' | 'already-restored' | 'changed-since';

export async function restoreRunTombstones(db: Kysely<Database>, runId: number): Promise<RestoreResult> {
  const run = await db.selectFrom('etl_run').select(['job', 'status']).where('id', '=', runId).executeTakeFirst();
  if (run === undefined) {
    throw new InputError(`run ${runId} does not exist: \`pubcat status\` lists the latest runs`, { input: runId });
  }
  if (run.status === 'running') {
    throw new InputError(`run ${runId} (${run.job}) is still running: restore its tombstones once it has ended`, { input: runId });
  }
  // The tombstone still current is the one to undo: a record whose version moved on is compared
  // by version, so a concurrent load that changes it first wins and the undo leaves it alone.
  const { rows } = await sql<{ pmid: number | string; outcome: Outcome }>`
    WITH tombstone AS (
      SELECT pmid, version FROM catalogue_record_version WHERE run_id = ${runId} AND op = 'delete'
    ),
    restored AS (
      UPDATE catalogue_record c
      SET status = 'active', version = c.version + 1, last_changed_at = now(), last_run_id = ${runId}
      FROM tombstone t WHERE c.pmid = t.pmid AND c.version = t.version AND c.status = 'deleted'
      RETURNING c.pmid, c.version, c.catalogue_id, c.content_hash, c.record
    ),
    -- The tombstone keeps its record in history from now on; the restored version's own is
    -- catalogue_record's (sql/027).
    superseded AS (
      UPDATE catalogue_record_version v SET record = r.record
      FROM restored r WHERE v.pmid = r.pmid AND v.version = r.version - 1 AND v.record IS NULL
    ),
    history AS (
      INSERT INTO catalogue_record_version (pmid, version, op, run_id, catalogue_id, content_hash)
      SELECT pmid, version, 'restore', ${runId}, catalogue_id, content_hash FROM restored
    ),
    -- The misses that led to the tombstone are forgiven with it, or the next miss would repeat it.
    misses_ended AS (
      UPDATE missing_pmid m SET consecutive_misses = 0 FROM restored r WHERE m.pmid = r.pmid AND m.consecutive_misses > 0
    )
    SELECT t.pmid,
      CASE WHEN r.pmid IS NOT NULL THEN 'restored'
           WHEN later.op = 'restore' AND later.run_id = ${runId} THEN 'already-restored'
           ELSE 'changed-since' END AS outcome
    FROM tombstone t
    LEFT JOIN restored r USING (pmid)
    LEFT JOIN catalogue_record_version later ON later.pmid = t.pmid AND later.version = t.version + 1
    ORDER BY t.pmid
  `.execute(db);
  if (rows.length === 0) {
    throw new InputError(`run ${runId} (${run.job}) tombstoned no records: there is nothing to restore`, { input: runId });
  }
  const count = (outcome: Outcome) => rows.filter((row) => row.outcome === outcome).length;
  return {
    runId,
    job: run.job,
    tombstones: rows.length,
    restored: rows.filter((row) => row.outcome === 'restored').map((row) => Number(row.pmid)),
    alreadyRestored: count('already-restored'),
    changedSince: count('changed-since'),
  };
}
