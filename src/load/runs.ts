/**
 * The run model, one for commands and scheduled jobs alike: the etl_run row of each run, its live
 * counters, its heartbeat, the checkpoint a restarted run resumes from, and how it finishes
 * (`finishRun` decides succeeded, partial or failed in SQL). Counters and checkpoint move in the
 * same transaction as the batch they describe, so after a crash they say exactly what was loaded.
 *
 * Who may hold a run is one of two policies, because two kinds of work ask different questions:
 * - by input (`startOrResumeRun`, here): a backfill, retransform or import of one input resumes
 *   that input's unfinished run in place, while runs of other inputs go on beside it;
 * - by job (run-claims.ts): refresh, sync and the update import never overlap themselves, one run
 *   per cron fire time, whether the scheduler or a person starts it.
 * Both take over a run whose heartbeat went stale, and both write through the functions here.
 */
import { hostname } from 'node:os';
import { sql, type Kysely, type Transaction } from 'kysely';
import { PubcatError } from '../errors.js';
import type { Database, RunJob, RunStatus } from './schema.js';

export type Executor = Kysely<Database> | Transaction<Database>;

/** This process's run was taken over by another replica (it had stopped heart-beating). */
export class RunTakenOverError extends PubcatError {}

export interface RunCounters {
  requested: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  missing: number;
  failed: number;
  invalid: number;
  /** PubMed records older than the stored ones (an earlier DateRevised): not applied. */
  older: number;
}

export const ZERO_COUNTERS: Readonly<RunCounters> = Object.freeze({
  requested: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  deleted: 0,
  missing: 0,
  failed: 0,
  invalid: 0,
  older: 0,
});

export interface RunHandle {
  id: number;
  job: RunJob;
  /** The process holding the run (`host:pid`); only it may record progress. */
  replica: string;
  /** True when this run took over an earlier, interrupted run with the same input. */
  resumed: boolean;
  checkpoint: Record<string, unknown> | null;
  counters: RunCounters;
}

/** A heartbeat older than this means the process running it is gone. */
export const STALE_HEARTBEAT_SECONDS = 60;

/** `host:pid` of this process, as written in etl_run.replica. */
export function thisReplica(): string {
  return `${hostname()}:${process.pid}`;
}

/**
 * Whether the process named by `replica` may still be running. Only a process on this host can be
 * checked directly; elsewhere the heartbeat decides.
 */
export function replicaMayBeAlive(replica: string): boolean {
  const separator = replica.lastIndexOf(':');
  const host = replica.slice(0, separator);
  const pid = Number(replica.slice(separator + 1));
  if (host !== hostname() || !Number.isInteger(pid)) return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StartRunOptions {
  job: RunJob;
  /** Fingerprint of the input: a run with the same key that did not finish is resumed. */
  inputKey: string;
  params: Record<string, unknown>;
  replica?: string;
}

/**
 * Starts a manual run, or resumes the latest unfinished run of the same input whose process is
 * gone (killed, crashed, or failed). A run of the same input that is still alive is not touched:
 * the caller gets `null` and should say so.
 */
export async function startOrResumeRun(db: Kysely<Database>, options: StartRunOptions): Promise<RunHandle | null> {
  const replica = options.replica ?? thisReplica();
  return db.transaction().execute(async (trx) => {
    // Two processes starting the same input at once must not both take over the same run. Run
    // starts queue on a table lock rather than an advisory lock, which any role that can connect
    // could hold (see migrate.ts); this mode is one holder at a time, yet lets other runs' counters
    // and heartbeats write on.
    await sql`LOCK TABLE etl_run IN SHARE UPDATE EXCLUSIVE MODE`.execute(trx);
    const previous = await trx
      .selectFrom('etl_run')
      .selectAll()
      .where('job', '=', options.job)
      .where('input_key', '=', options.inputKey)
      .where('status', 'in', ['running', 'failed', 'abandoned'])
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (previous !== undefined) {
      const staleSeconds = (Date.now() - previous.heartbeat_at.getTime()) / 1000;
      const alive = previous.status === 'running' && staleSeconds < STALE_HEARTBEAT_SECONDS && replicaMayBeAlive(previous.replica);
      if (alive) return null;
      await trx
        .updateTable('etl_run')
        .set({ status: 'running', replica, heartbeat_at: sql`now()`, finished_at: null, error: null })
        .where('id', '=', previous.id)
        .execute();
      return {
        id: Number(previous.id),
        job: previous.job,
        replica,
        resumed: true,
        checkpoint: previous.checkpoint,
        counters: pickCounters(previous),
      };
    }
    const created = await trx
      .insertInto('etl_run')
      .values({ job: options.job, input_key: options.inputKey, params: JSON.stringify(options.params), replica, checkpoint: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(created.id), job: options.job, replica, resumed: false, checkpoint: null, counters: { ...ZERO_COUNTERS } };
  });
}

/**
 * Adds a batch's counts and moves the checkpoint; call inside the batch's own transaction. A
 * process that was paused long enough for another replica to take its run over no longer owns
 * it: it gets RunTakenOverError, and its batch rolls back instead of landing on the new owner's run.
 */
export async function recordBatchProgress(
  executor: Executor,
  run: Pick<RunHandle, 'id' | 'replica'>,
  delta: Partial<RunCounters>,
  checkpoint: Record<string, unknown>,
): Promise<void> {
  const updated = await executor
    .updateTable('etl_run')
    .set((eb) => ({
      requested: eb('requested', '+', delta.requested ?? 0),
      inserted: eb('inserted', '+', delta.inserted ?? 0),
      updated: eb('updated', '+', delta.updated ?? 0),
      unchanged: eb('unchanged', '+', delta.unchanged ?? 0),
      deleted: eb('deleted', '+', delta.deleted ?? 0),
      missing: eb('missing', '+', delta.missing ?? 0),
      failed: eb('failed', '+', delta.failed ?? 0),
      invalid: eb('invalid', '+', delta.invalid ?? 0),
      older: eb('older', '+', delta.older ?? 0),
      checkpoint: JSON.stringify(checkpoint),
      heartbeat_at: sql`now()`,
    }))
    .where('id', '=', run.id)
    .where('replica', '=', run.replica)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (updated.numUpdatedRows === 0n) {
    throw new RunTakenOverError(`run ${run.id} is no longer held by ${run.replica}; its batch was rolled back`, { input: run.id });
  }
}

/**
 * Heartbeat of a run this process holds; false when another replica has taken it over (a process
 * that missed its own heartbeats must not keep the new owner's run looking alive).
 */
export async function heartbeat(db: Executor, run: Pick<RunHandle, 'id' | 'replica'>): Promise<boolean> {
  const result = await db
    .updateTable('etl_run')
    .set({ heartbeat_at: sql`now()` })
    .where('id', '=', run.id)
    .where('replica', '=', run.replica)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A run as it ended: its final counters, status and, unless it succeeded, why. */
export interface FinishedRun extends RunCounters {
  status: RunStatus;
  error: string | null;
}

/**
 * Ends a run this process holds, with its final counters; null when it no longer holds it
 * (another replica took it over), and then nothing is written.
 *
 * A `finished` run is `succeeded` when every PMID was accounted for, and `partial` when some
 * failed, or when `problem` (or a note the run left in `error`, such as tombstones held back in
 * an outage) says what else kept it from finishing cleanly. The status is decided
 * in the same statement from the counters as committed, so it never disagrees with them.
 */
export async function finishRun(
  db: Executor,
  run: Pick<RunHandle, 'id' | 'replica'>,
  outcome: 'finished' | 'failed',
  problem?: string,
): Promise<FinishedRun | null> {
  const note = problem ?? null;
  const row = await db
    .updateTable('etl_run')
    .set({
      status:
        outcome === 'failed'
          ? 'failed'
          : sql<RunStatus>`CASE WHEN failed > 0 OR ${note}::text IS NOT NULL OR error IS NOT NULL THEN 'partial' ELSE 'succeeded' END`,
      finished_at: sql`now()`,
      heartbeat_at: sql`now()`,
      error:
        outcome === 'failed'
          ? note
          : sql<string | null>`coalesce(${note}::text, nullif(concat_ws('; ', error, CASE WHEN failed = 1 THEN '1 PMID failed' WHEN failed > 1 THEN failed || ' PMIDs failed' END), ''))`,
    })
    .where('id', '=', run.id)
    .where('replica', '=', run.replica)
    .where('status', '=', 'running')
    .returningAll()
    .executeTakeFirst();
  return row === undefined ? null : { ...pickCounters(row), status: row.status, error: row.error };
}

/**
 * Backfill runs whose process died without a word (SIGKILL, a crash, a lost machine) stay
 * `running` until the same command resumes them, and one of stdin input never is. A run with a
 * stale heartbeat whose process cannot be alive is closed as failed, saying so; the same command
 * still resumes it. Returns how many were closed.
 */
export async function closeDeadBackfills(db: Kysely<Database>): Promise<number> {
  const stale = await db
    .selectFrom('etl_run')
    .select(['id', 'replica', 'params'])
    .where('status', '=', 'running')
    .where('job', '=', 'backfill')
    .where('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${STALE_HEARTBEAT_SECONDS})`)
    .execute();
  let closed = 0;
  for (const run of stale.filter((candidate) => !replicaMayBeAlive(candidate.replica) || !sameHost(candidate.replica))) {
    const resume = run.params.file === '-' ? 'input from stdin cannot be resumed' : 'run the same command again to resume';
    const result = await db
      .updateTable('etl_run')
      .set({ status: 'failed', finished_at: sql`heartbeat_at`, error: `its process (${run.replica}) stopped without finishing; ${resume}` })
      .where('id', '=', run.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    closed += Number(result.numUpdatedRows);
  }
  return closed;
}

function sameHost(replica: string): boolean {
  return replica.slice(0, replica.lastIndexOf(':')) === hostname();
}

export function pickCounters(row: RunCounters): RunCounters {
  const { requested, inserted, updated, unchanged, deleted, missing, failed, invalid, older } = row;
  return { requested, inserted, updated, unchanged, deleted, missing, failed, invalid, older };
}
