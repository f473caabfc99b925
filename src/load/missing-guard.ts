/**
 * Whether a batch's missing PMIDs may count toward tombstones. NCBI has answered outages with
 * HTTP 200 and a well-formed, empty PubmedArticleSet: every PMID "missing", indistinguishable
 * from deletions PMID by PMID. So misses count only while NCBI looks healthy:
 *
 * - a batch is suspect when more than `maxShare` of a full batch is missing (a short last batch
 *   is measured against a full one, so one miss there does not condemn it);
 * - the run is suspect while more than `maxShare` of all it asked for so far is missing, which
 *   holds every later batch after an outage and keeps a small run's misses from counting on
 *   their own (one miss among three PMIDs is a third).
 *
 * In a suspect batch no record is tombstoned for being missing (DeleteCitations still are: that
 * is NCBI saying so). Its misses are recorded without counting toward the two in a row, and the
 * records among them count as `failed`: the run could not tell whether they are gone, so it ends
 * `partial` and the next run asks again.
 */
import { sql, type Transaction } from 'kysely';
import type { RunHandle } from './runs.js';
import type { Database } from './schema.js';
import { markDeleted, recordMissing, recordUnsettledMissing } from './tombstones.js';

export const DEFAULT_MAX_MISSING_SHARE = 0.05;

export interface MissingGuard {
  /** Largest share of missing PMIDs NCBI may leave out and still be believed (0–1). */
  maxShare?: number;
  /** PMIDs in a full batch. */
  batchSize: number;
}

export interface SettledMisses {
  /** Records tombstoned now: missing for the second time in a row. */
  tombstoned: number[];
  /** Records missing while NCBI looked unhealthy, with why; not settled by this run. */
  held?: { pmids: number[]; reason: string };
}

/** Records a batch's misses and tombstones what they settle, unless NCBI looks unhealthy (see above). */
export async function settleMissing(
  trx: Transaction<Database>,
  runId: number,
  batch: { missing: readonly number[]; requested: number },
  guard: MissingGuard,
): Promise<SettledMisses> {
  if (batch.missing.length === 0) return { tombstoned: [] };
  const reason = await suspicion(trx, runId, batch.missing.length, batch.requested, guard);
  if (reason === undefined) {
    const missingTwice = await recordMissing(trx, batch.missing, runId);
    if (missingTwice.length === 0) return { tombstoned: [] };
    return { tombstoned: (await markDeleted(trx, missingTwice, runId, 'missing')).tombstoned };
  }
  const unsettled = await recordUnsettledMissing(trx, batch.missing, runId);
  return unsettled.length === 0 ? { tombstoned: [] } : { tombstoned: [], held: { pmids: unsettled, reason } };
}

/**
 * Puts the first hold of a run into its `error` note (call once the batch's progress is recorded,
 * in its transaction, so batches write the run row in input order); true when this one was the first.
 */
export async function noteHeldMisses(trx: Transaction<Database>, run: Pick<RunHandle, 'id' | 'replica'>, reason: string): Promise<boolean> {
  const noted = await trx
    .updateTable('etl_run')
    .set({ error: reason })
    .where('id', '=', run.id)
    .where('replica', '=', run.replica)
    .where('error', 'is', null)
    .executeTakeFirst();
  return noted.numUpdatedRows > 0n;
}

/** Why NCBI's answer looks unhealthy, or undefined when it does not. */
async function suspicion(
  trx: Transaction<Database>,
  runId: number,
  missing: number,
  requested: number,
  guard: MissingGuard,
): Promise<string | undefined> {
  const maxShare = guard.maxShare ?? DEFAULT_MAX_MISSING_SHARE;
  const limit = `PUBCAT_MAX_MISSING_SHARE=${percent(maxShare)}`;
  const consequence = 'its missing records are not tombstoned, count as failed, and are asked for again by the next run';
  if (missing > maxShare * guard.batchSize) {
    return `NCBI left out ${missing} of a batch's ${requested} PMIDs, more than ${limit} of a batch of ${guard.batchSize}: ${consequence}`;
  }
  // The batches committed before this one; on PostgreSQL the one loading beside it is not seen yet.
  // Its counters bound the run's misses from above (they also hold DeleteCitations and fetch
  // failures), so the exact count, a scan of missing_pmid, is needed only when the bound is high.
  const run = await trx
    .selectFrom('etl_run')
    .select((eb) => ['requested', eb(eb('missing', '+', eb.ref('deleted')), '+', eb.ref('failed')).as('at_most_missing')])
    .where('id', '=', runId)
    .executeTakeFirst();
  const runRequested = (run?.requested ?? 0) + requested;
  if ((run?.at_most_missing ?? 0) + missing <= maxShare * runRequested) return undefined;
  const { rows } = await sql<{ missing: number | string }>`
    SELECT count(*) AS missing FROM missing_pmid WHERE last_run_id = ${runId}
  `.execute(trx);
  const runMissing = Number(rows[0]?.missing ?? 0) + missing;
  if (runMissing > maxShare * runRequested) {
    return `NCBI left out ${runMissing} of the ${runRequested} PMIDs this run asked for so far, more than ${limit}: ${consequence}`;
  }
  return undefined;
}

function percent(share: number): string {
  return `${Number((share * 100).toFixed(2))} %`;
}
