/**
 * The scheduler behind `pubcat schedule`. node-cron fires every job in every replica; the database
 * decides which replica runs it (src/load/run-claims.ts). Each replica also watches for runs whose
 * heartbeat went stale, so a run whose process died is taken over within about the stale
 * interval, not only at the job's next fire time (a daily job would wait a day).
 *
 * Stopping: no more claims or take-overs; running jobs see their signal abort, load the batches
 * in flight and checkpoint; their runs are released as failed, which the next run resumes.
 * Batches still waiting for NCBI after the grace are given up (not loaded: the checkpoint stays
 * before them), and a job still busy a little later has its run released here all the same. A
 * run's heartbeats stop before it is released: a beat that found it released would look like a
 * take-over, and one still under way when the database closes would fail.
 */
import { createTask, type ScheduledTask } from 'node-cron';
import { PubcatError } from '../src/errors.js';
import { finishRun, heartbeat, STALE_HEARTBEAT_SECONDS, thisReplica, type Executor } from '../src/load/runs.js';
import type { Logger } from '../src/logger.js';
import { STOP_GRACE_MS } from '../src/pipeline.js';
import { claimRun, describeHolder, takeOverStaleRun, type ClaimedRun } from '../src/load/run-claims.js';
import type { JobContext } from './context.js';
import type { JobDefinition } from './definitions.js';

export interface SchedulerOptions {
  jobs: JobDefinition[];
  /** Shared by every job; its `signal`, `logger` and `progress` are replaced per run. */
  context: JobContext;
  /** A heartbeat older than this means the run's process is gone (default STALE_HEARTBEAT_SECONDS). */
  staleSeconds?: number;
  replica?: string;
}

export interface Scheduler {
  /**
   * Stops claiming, stops the running jobs at a batch boundary and releases their runs. Batches
   * still waiting for NCBI after `graceMs` are given up; a job still busy GIVE_UP_SETTLE_MS after
   * that has its run released here (its checkpoint stands). Resolves once no heartbeat is under way.
   */
  stop(graceMs?: number): Promise<void>;
}

export const DEFAULT_STOP_GRACE_MS = STOP_GRACE_MS;
/** Time the jobs get, once their batches waiting for NCBI are given up, to load what arrived and release their runs. */
const GIVE_UP_SETTLE_MS = 5_000;

/** A run this process holds, while its job runs. */
interface HeldRun {
  run: ClaimedRun;
  beats: Heartbeat;
  /** Released by stop() while its job was still busy: the job writes nothing more to it. */
  released: boolean;
}

export function startScheduler(options: SchedulerOptions): Scheduler {
  const { context, jobs } = options;
  const { db } = context.database;
  const staleSeconds = options.staleSeconds ?? STALE_HEARTBEAT_SECONDS;
  const replica = options.replica ?? thisReplica();
  const logger = context.logger.child({ replica });
  const shutdown = new AbortController();
  const giveUp = new AbortController();
  /**
   * What this process is doing about each job: a quick look for a stale run, or running it. Set
   * before the first await, so a tick and the watchdog never both start the same job here.
   */
  const busy = new Map<string, { work: Promise<void>; running: boolean }>();
  const holding = new Map<string, HeldRun>();

  const execute = async (job: JobDefinition, run: ClaimedRun): Promise<void> => {
    const log = logger.child({ job: job.name, runId: run.id });
    const lost = new AbortController();
    const beats = startHeartbeat(db, run, Math.max(200, (staleSeconds * 1000) / 4), log, () => {
      if (lost.signal.aborted) return;
      log.error('another replica took this run over (this one missed its heartbeats); stopping it here');
      lost.abort();
    });
    const held: HeldRun = { run, beats, released: false };
    holding.set(job.name, held);
    busy.get(job.name)!.running = true;
    const startedAt = Date.now();
    try {
      const signal = AbortSignal.any([shutdown.signal, lost.signal]);
      const cancel = AbortSignal.any([giveUp.signal, lost.signal]);
      const counters = await job.run(run, { ...context, logger: log, signal, cancel, progress: undefined });
      await beats.stop();
      if (lost.signal.aborted || held.released) return;
      const seconds = (Date.now() - startedAt) / 1000;
      if (shutdown.signal.aborted) {
        await finishRun(db, run, 'failed', 'interrupted by shutdown; the next run resumes from its checkpoint');
        log.warn({ ...counters, seconds }, 'run released at shutdown');
      } else {
        const final = await finishRun(db, run, 'finished');
        if (final?.status === 'partial') log.warn({ ...final, seconds }, `${job.name} run ${run.id} partial: ${final.error}`);
        else log.info({ ...(final ?? counters), seconds }, `${job.name} run ${run.id} succeeded`);
      }
    } catch (error) {
      await beats.stop();
      // Released at shutdown, the run is no longer this job's to fail.
      if (held.released) return;
      if (!lost.signal.aborted) await finishRun(db, run, 'failed', (error as Error).message).catch(() => undefined);
      log.error({ err: error }, `${job.name} run ${run.id} failed`);
    } finally {
      holding.delete(job.name);
    }
  };

  /** Starts `attempt` unless this process is already busy with `job`. */
  const exclusively = (job: JobDefinition, attempt: () => Promise<void>): void => {
    const entry = { work: Promise.resolve(), running: false };
    busy.set(job.name, entry);
    entry.work = attempt()
      .catch((error: unknown) => logger.error({ job: job.name, err: error }, 'scheduler could not reach the database'))
      .finally(() => busy.delete(job.name));
  };

  const takeOver = async (job: JobDefinition): Promise<boolean> => {
    const taken = await takeOverStaleRun(db, job.name, staleSeconds, replica, job.inputKey);
    if (taken === null) return false;
    logger.warn(
      { job: job.name, runId: taken.run.id, from: taken.from, scheduledFor: taken.run.scheduledFor, checkpoint: taken.run.checkpoint },
      `took over ${job.name} run ${taken.run.id} from ${taken.from} (heartbeat older than ${staleSeconds}s)`,
    );
    await execute(job, taken.run);
    return true;
  };

  const onTick = (job: JobDefinition, scheduledFor: Date): void => {
    if (shutdown.signal.aborted) return;
    const current = busy.get(job.name);
    if (current?.running === true) {
      logger.info({ job: job.name, scheduledFor, reason: 'running in this replica' }, `skipped ${job.name} at ${scheduledFor.toISOString()}: still running here`);
      return;
    }
    // The watchdog is only looking for a stale run: claim the fire time once it is done.
    if (current !== undefined) return void current.work.then(() => onTick(job, scheduledFor));
    exclusively(job, async () => {
      if (await takeOver(job)) return;
      const claim = await claimRun(db, {
        job: job.name,
        inputKey: job.inputKey,
        scheduledFor,
        params: job.params,
        resumeReleased: job.resumesReleased,
        replica,
      });
      if (claim === null) {
        const holder = await describeHolder(db, job.name, scheduledFor);
        logger.info({ job: job.name, scheduledFor, ...holder }, `skipped ${job.name} at ${scheduledFor.toISOString()}: ${holder?.reason ?? 'claimed elsewhere'}`);
        return;
      }
      logger.info(
        { job: job.name, runId: claim.run.id, scheduledFor, resumedFrom: claim.resumedFrom },
        `claimed ${job.name} run ${claim.run.id} for ${scheduledFor.toISOString()}`,
      );
      await execute(job, claim.run);
    });
  };

  const cronLogger = logger.child({ component: 'node-cron' });
  const tasks: ScheduledTask[] = jobs.map((job) =>
    createTask(job.cron, (fire) => onTick(job, fire.date), {
      name: `pubcat-${job.name}`,
      logger: {
        info: (message) => cronLogger.info(message),
        warn: (message) => cronLogger.warn(message),
        error: (message, error) => cronLogger.error({ err: error ?? message }, String(message)),
        debug: (message) => cronLogger.debug(String(message)),
      },
    }),
  );
  for (const task of tasks) void task.start();
  const watchdog = setInterval(() => {
    for (const job of jobs) if (!busy.has(job.name)) exclusively(job, async () => void (await takeOver(job)));
  }, Math.max(500, (staleSeconds * 1000) / 2));
  logger.info({ jobs: jobs.map((job) => ({ job: job.name, cron: job.cron })), staleSeconds }, 'scheduler started');

  return {
    async stop(graceMs = DEFAULT_STOP_GRACE_MS) {
      shutdown.abort();
      clearInterval(watchdog);
      await Promise.all(tasks.map((task) => task.destroy()));
      const jobsSettleWithin = (ms: number): Promise<boolean> => settledWithin([...busy.values()].map((entry) => entry.work), ms);
      if (!(await jobsSettleWithin(graceMs))) {
        logger.warn({ graceSeconds: graceMs / 1000 }, 'giving up the batches still waiting for NCBI');
        giveUp.abort(new PubcatError(`scheduler stopping: gave up the batches still waiting for NCBI after ${graceMs / 1000} s`));
        await jobsSettleWithin(GIVE_UP_SETTLE_MS);
      }
      for (const held of holding.values()) {
        held.released = true;
        await held.beats.stop();
        await finishRun(db, held.run, 'failed', 'stopped at shutdown before its batch finished; the next run resumes from its checkpoint').catch(
          () => undefined,
        );
        logger.warn({ job: held.run.job, runId: held.run.id }, 'run released before its batch finished');
      }
      logger.info('scheduler stopped');
    },
  };
}

interface Heartbeat {
  /** Stops beating; resolves once no beat is under way. */
  stop(): Promise<void>;
}

/**
 * Beats for `run` every `intervalMs` until stopped. A beat that finds the run no longer held by
 * this replica calls `onLost`; a beat still under way when the next is due is not doubled.
 */
function startHeartbeat(db: Executor, run: ClaimedRun, intervalMs: number, log: Logger, onLost: () => void): Heartbeat {
  let stopped = false;
  let beating: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (beating !== undefined) return;
    beating = heartbeat(db, run)
      .then(
        (owned) => {
          if (!owned && !stopped) onLost();
        },
        (error: unknown) => {
          if (!stopped) log.warn({ err: error }, 'heartbeat failed');
        },
      )
      .finally(() => (beating = undefined));
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await beating;
    },
  };
}

/** Whether every one of `work` settled within `ms`. */
async function settledWithin(work: Array<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([Promise.allSettled(work).then(() => true), over]);
  } finally {
    clearTimeout(timer);
  }
}

/** When `cron` fires next (the expression must be valid: the configuration checks it). */
export function nextFireTime(cron: string): Date {
  // An unstarted task computes fire times without scheduling anything.
  const task = createTask(cron, () => undefined);
  try {
    return task.getNextRuns(1)[0]!;
  } finally {
    void task.destroy();
  }
}
