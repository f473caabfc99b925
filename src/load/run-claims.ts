/**
 * Who runs a job, decided by Postgres alone (the same SQL works on PGlite, for a single replica).
 *
 * - Claim: one etl_run row per (job, fire time), inserted with `ON CONFLICT DO NOTHING`. The
 *   partial unique indexes refuse a second claim of the same fire time (etl_run_claim_once) and a
 *   second running run of the same job (etl_run_no_overlap), whoever asks: scheduler or command.
 * - Take-over: a running run whose heartbeat went stale belongs to a process that died. Another
 *   process takes over that same row: its scheduled time, counters and checkpoint carry on, so the
 *   row's counters always describe the whole run.
 * - Resume: a run released on purpose (SIGTERM) or by an error ends `failed`; the next claim of a
 *   job that keeps a checkpoint starts from it, with its counters, and marks the released run
 *   `abandoned` (superseded), so summing the counters of finished runs counts every record once.
 *
 * Every write by the owner after the claim names its replica too: a process that was paused past
 * the stale interval and lost its run to another finds out at its next heartbeat and stops.
 */
import { sql } from 'kysely';
import { InputError } from '../errors.js';
import { pickCounters, STALE_HEARTBEAT_SECONDS, thisReplica, type Executor, type RunCounters, type RunHandle } from './runs.js';
import type { Logger } from '../logger.js';

export type ScheduledJobName = 'refresh' | 'sync' | 'import';

/** A run this process holds. `stage` is where a run made of parts stands (see sql/006). */
export interface ClaimedRun extends RunHandle {
  job: ScheduledJobName;
  scheduledFor: Date | null;
  stage: Record<string, unknown> | null;
  replica: string;
}

export interface ClaimOptions {
  job: ScheduledJobName;
  inputKey: string;
  /** The cron fire time; null for a run started by hand. */
  scheduledFor: Date | null;
  params: Record<string, unknown>;
  /** Continue the checkpoint, stage and counters of the latest run when it was released unfinished. */
  resumeReleased: boolean;
  replica?: string;
}

export interface Claim {
  run: ClaimedRun;
  /** The released run this one continues, when there was one. */
  resumedFrom: number | null;
}

/** Claims a run, or returns null when the fire time is already claimed or the job is running. */
export async function claimRun(db: Executor, options: ClaimOptions): Promise<Claim | null> {
  const replica = options.replica ?? thisReplica();
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('etl_run')
      .values({
        job: options.job,
        scheduled_for: options.scheduledFor,
        input_key: options.inputKey,
        params: JSON.stringify(options.params),
        checkpoint: null,
        replica,
      })
      .onConflict((conflict) => conflict.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted === undefined) return null;
    const id = Number(inserted.id);
    const base: ClaimedRun = {
      id,
      job: options.job,
      resumed: false,
      checkpoint: null,
      counters: pickCounters(inserted),
      scheduledFor: inserted.scheduled_for,
      stage: null,
      replica,
    };
    if (!options.resumeReleased) return { run: base, resumedFrom: null };

    const previous = await trx
      .selectFrom('etl_run')
      .selectAll()
      .where('job', '=', options.job)
      .where('id', '<', id)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const released = previous !== undefined && (previous.status === 'failed' || previous.status === 'abandoned');
    if (!released || (previous.checkpoint === null && previous.stage === null)) return { run: base, resumedFrom: null };

    const counters = pickCounters(previous);
    await trx
      .updateTable('etl_run')
      .set({ ...counters, checkpoint: JSON.stringify(previous.checkpoint), stage: JSON.stringify(previous.stage) })
      .where('id', '=', id)
      .execute();
    await trx
      .updateTable('etl_run')
      .set({ status: 'abandoned', error: `${previous.error ?? 'stopped'}; run ${id} resumed from its checkpoint` })
      .where('id', '=', previous.id)
      .execute();
    return {
      run: { ...base, resumed: true, checkpoint: previous.checkpoint, stage: previous.stage, counters },
      resumedFrom: Number(previous.id),
    };
  });
}

/**
 * A run started by hand (`pubcat refresh`, `pubcat sync`), by the same rules as the scheduler's:
 * it takes over the job's run when that run's replica went silent, else claims a new run; while
 * the job runs elsewhere it is refused with an error naming the holder.
 */
export async function claimManualRun(db: Executor, options: Omit<ClaimOptions, 'scheduledFor' | 'replica'>, logger: Logger): Promise<ClaimedRun> {
  const taken = await takeOverStaleRun(db, options.job, STALE_HEARTBEAT_SECONDS);
  if (taken !== null) {
    logger.warn({ runId: taken.run.id, from: taken.from }, `taking over ${options.job} run ${taken.run.id} from ${taken.from}, which stopped`);
    return taken.run;
  }
  const claimed = await claimRun(db, { ...options, scheduledFor: null });
  if (claimed !== null) return claimed.run;
  const holder = await describeHolder(db, options.job, null);
  throw new InputError(
    `a ${options.job} is already running (run ${holder?.runId ?? '?'} on ${holder?.replica ?? '?'}); wait for it to finish`,
    { input: holder },
  );
}

export interface TakeOver {
  run: ClaimedRun;
  /** The replica that held it and stopped heart-beating. */
  from: string;
}

/**
 * Takes over the running run of `job` whose heartbeat is older than `staleSeconds` (by the
 * database's clock, the one every replica shares). Of several processes trying at once, exactly
 * one gets the row: the others skip it while it is locked and find it fresh afterwards. With
 * `inputKey`, only a run of that input is taken: a scheduled import takes over the scheduled
 * imports, not an import of local files someone started by hand.
 */
export async function takeOverStaleRun(
  db: Executor,
  job: ScheduledJobName,
  staleSeconds: number,
  replica: string = thisReplica(),
  inputKey?: string,
): Promise<TakeOver | null> {
  const { rows } = await sql<RunRow & { previous_replica: string }>`
    WITH dead AS (
      SELECT id, replica FROM etl_run
      WHERE job = ${job} AND status = 'running' AND heartbeat_at < now() - make_interval(secs => ${staleSeconds})
        ${inputKey === undefined ? sql`` : sql`AND input_key = ${inputKey}`}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE etl_run SET replica = ${replica}, heartbeat_at = now()
    FROM dead WHERE etl_run.id = dead.id
    RETURNING etl_run.*, dead.replica AS previous_replica`.execute(db);
  const row = rows[0];
  if (row === undefined) return null;
  return {
    from: row.previous_replica,
    run: {
      id: Number(row.id),
      job,
      resumed: true,
      checkpoint: row.checkpoint,
      counters: pickCounters(row),
      scheduledFor: row.scheduled_for === null ? null : new Date(row.scheduled_for),
      stage: row.stage,
      replica,
    },
  };
}

interface RunRow extends RunCounters {
  id: number | string;
  scheduled_for: Date | string | null;
  checkpoint: Record<string, unknown> | null;
  stage: Record<string, unknown> | null;
}

/** Who holds the fire time or the job, for a log line saying why a claim was skipped. */
export async function describeHolder(
  db: Executor,
  job: ScheduledJobName,
  scheduledFor: Date | null,
): Promise<{ reason: 'fire time already claimed' | 'job running'; runId: number; replica: string } | null> {
  if (scheduledFor !== null) {
    const claimed = await db
      .selectFrom('etl_run')
      .select(['id', 'replica'])
      .where('job', '=', job)
      .where('scheduled_for', '=', scheduledFor)
      .executeTakeFirst();
    if (claimed !== undefined) return { reason: 'fire time already claimed', runId: Number(claimed.id), replica: claimed.replica };
  }
  const running = await db
    .selectFrom('etl_run')
    .select(['id', 'replica'])
    .where('job', '=', job)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return running === undefined ? null : { reason: 'job running', runId: Number(running.id), replica: running.replica };
}
