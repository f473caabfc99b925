/** What every run command (backfill, refresh, sync) shares: client, database, signals, summary. */
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import type { JobContext } from '../../jobs/context.js';
import type { Config } from '../config.js';
import { PubcatError } from '../errors.js';
import { EutilsClient } from '../extract/eutils-client.js';
import { startBudgetKey } from '../extract/start-budget.js';
import { openDatabase, type CatalogueDatabase } from '../load/db.js';
import { migrate } from '../load/migrate.js';
import { DatabaseStartBudget } from '../load/start-slots.js';
import { finishRun, RunTakenOverError, type RunCounters, type RunHandle } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { EXIT_PARTIAL, exitCodeForSignal, exitWith } from '../exit-codes.js';
import { batchesInFlightFor, STOP_GRACE_MS } from '../pipeline.js';
import { describeFailure, onFatal } from '../process-guard.js';
import { createProgressReporter } from '../pipeline/progress.js';
import { createBatchTransformer } from '../pipeline/transform-pool.js';

/**
 * The E-utilities client of one process. On PostgreSQL its request starts come from the budget
 * every pubcat process on that database shares, so replicas and concurrent runs stay under
 * NCBI's limit together; the embedded database is open in one process only and needs none.
 */
export function createEutilsClient(config: Config, logger: Logger, database: CatalogueDatabase): EutilsClient {
  const startBudget =
    database.backend === 'postgres' ? new DatabaseStartBudget(database.db, startBudgetKey(config.eutilsBaseUrl, config.ncbiApiKey)) : undefined;
  if (startBudget !== undefined) logger.debug({ budget: startBudget.key }, 'NCBI request starts shared with every pubcat process on this database');
  return new EutilsClient({
    baseUrl: config.eutilsBaseUrl,
    tool: config.ncbiTool,
    ...(config.ncbiEmail === undefined ? {} : { email: config.ncbiEmail }),
    ...(config.ncbiApiKey === undefined ? {} : { apiKey: config.ncbiApiKey }),
    maxRps: config.maxRps,
    backoff: { maxAttempts: config.ncbiAttempts },
    requestTimeoutMs: config.ncbiTimeoutSeconds * 1000,
    maxRetryAfterMs: config.maxRetryAfterSeconds * 1000,
    ...(startBudget === undefined ? {} : { startBudget }),
    logger,
  });
}

/** Opens the database and brings its schema up to date, so a first run needs no separate migrate. */
export async function openMigratedDatabase(config: Config, logger: Logger): Promise<CatalogueDatabase> {
  const database = await openDatabase(config);
  try {
    const outcome = await migrate(database, undefined, (notice) => logger.debug(notice));
    if (outcome.applied.length > 0) logger.info({ applied: outcome.applied }, 'schema migrated');
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Worker threads for parse and transform: one per core, since the main thread mostly waits on I/O. */
export function transformWorkerCount(): number {
  return Math.min(4, availableParallelism());
}

export interface RunSignals {
  /** Aborted by the first SIGINT or SIGTERM: the run takes no more input. */
  signal: AbortSignal;
  /** Aborted STOP_GRACE_MS later: the run gives up the batches still waiting for NCBI. */
  cancel: AbortSignal;
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

/**
 * The first SIGINT or SIGTERM aborts `signal`: the run stops taking input, finishes the batches
 * in flight and checkpoints. Those still waiting for NCBI after STOP_GRACE_MS are given up
 * (`cancel`), so that a stalled NCBI cannot hold the exit. A second signal exits at once; the
 * checkpoint makes that safe too.
 */
export function abortOnSignals(logger: Logger): RunSignals {
  const stop = new AbortController();
  const cancel = new AbortController();
  // Every E-utilities call in flight listens to these until it ends: dozens at 10 requests/s,
  // which is no leak, and Node's warning at 11 would be printed to the user.
  setMaxListeners(0, stop.signal, cancel.signal);
  let received: NodeJS.Signals | undefined;
  let grace: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(exitCodeForSignal(signal));
    }
    received = signal;
    logger.warn({ signal, graceSeconds: STOP_GRACE_MS / 1000 }, 'stopping: finishing the batches in flight, then writing the checkpoint');
    stop.abort();
    grace = setTimeout(() => cancel.abort(new PubcatError(`stopped by ${signal}: gave up the batches still waiting for NCBI`)), STOP_GRACE_MS);
    // The grace bounds the wait for batches; it is no reason to keep a process that is done.
    grace.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stop.signal,
    cancel: cancel.signal,
    received: () => received,
    dispose: () => {
      clearTimeout(grace);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export interface RunSummary extends RunCounters {
  run_id: number;
}

/**
 * DESIGN's summary object: `{"run_id", "requested", "inserted", …, "failed", "invalid", "older"}`,
 * every key always present, so that a script reads the same shape from every run.
 */
export function summaryObject(runId: number, counters: RunCounters): RunSummary {
  const { requested, inserted, updated, unchanged, deleted, missing, failed, invalid, older } = counters;
  return { run_id: runId, requested, inserted, updated, unchanged, deleted, missing, failed, invalid, older };
}

export function summaryLine(job: string, summary: RunSummary, seconds: number, note = ''): string {
  const invalid = summary.invalid === 0 ? '' : `, ${summary.invalid} invalid input line${summary.invalid === 1 ? '' : 's'}`;
  return (
    `${job} run ${summary.run_id}${note}: ${summary.requested} requested, ${summary.inserted} inserted, ` +
    `${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.deleted} deleted, ` +
    `${summary.missing} missing, ${summary.failed} failed${summary.older === 0 ? '' : `, ${summary.older} older`}${invalid} in ${seconds.toFixed(1)}s`
  );
}

/** With --json the object is the only thing on stdout and the line goes to stderr. */
export function printSummary(job: string, summary: RunSummary, seconds: number, json: boolean, note = ''): void {
  const line = `${summaryLine(job, summary, seconds, note)}\n`;
  if (json) {
    process.stderr.write(line);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(line);
  }
}

export interface RunResources {
  context: JobContext;
  signals: RunSignals;
}

/**
 * Opens what a run command needs (database, E-utilities client, transform workers, signal
 * handling), hands it to `work`, and closes all of it however `work` ends.
 */
export async function withRunResources<T>(config: Config, logger: Logger, work: (resources: RunResources) => Promise<T>): Promise<T> {
  const database = await openMigratedDatabase(config, logger);
  const client = createEutilsClient(config, logger, database);
  const transformer = createBatchTransformer(transformWorkerCount());
  const signals = abortOnSignals(logger);
  try {
    return await work({
      signals,
      context: {
        database,
        client,
        transformer,
        logger,
        progress: createProgressReporter(process.stderr, logger),
        signal: signals.signal,
        cancel: signals.cancel,
        settings: {
          batchSize: config.batchSize,
          pmc: true,
          batchesInFlight: batchesInFlightFor(config.maxRps, config.batchSize),
          maxMissingShare: config.maxMissingShare,
        },
      },
    });
  } finally {
    signals.dispose();
    await transformer.close();
    await client.close();
    await database.close();
  }
}

/**
 * Runs `work` for `run`, closes the run and sets the exit code:
 * - finished: `succeeded` (exit 0), or `partial` when PMIDs failed (exit 2, with one line saying so);
 * - interrupted by a signal: `failed` with that reason, so the same command resumes it (128 + signal);
 * - `work` threw: `failed` with the reason, and the error goes on to the command's caller (exit 1).
 * Ends with the summary line.
 */
export async function completeRun(
  resources: RunResources,
  run: RunHandle,
  options: { job: string; startedAt: number; json: boolean },
  work: () => Promise<RunCounters>,
): Promise<void> {
  const { db } = resources.context.database;
  let counters: RunCounters;
  const forgetFatal = onFatal((reason) => finishRun(db, run, 'failed', reason));
  try {
    counters = await work();
  } catch (error) {
    await finishRun(db, run, 'failed', describeFailure(error)).catch(() => undefined);
    throw error;
  } finally {
    forgetFatal();
  }
  const seconds = (Date.now() - options.startedAt) / 1000;
  const interrupted = resources.signals.received();
  if (interrupted !== undefined) {
    await finishRun(db, run, 'failed', `interrupted by ${interrupted}; run the same command again to resume`);
    printSummary(options.job, summaryObject(run.id, counters), seconds, options.json, ' (interrupted)');
    process.stderr.write(`pubcat: ${options.job} run ${run.id} stopped by ${interrupted} after its last loaded batch; run the same command again to resume\n`);
    exitWith(exitCodeForSignal(interrupted));
    return;
  }
  const final = await finishRun(db, run, 'finished');
  if (final === null) {
    throw new RunTakenOverError(`run ${run.id} was taken over by another process before it finished here`, { input: run.id });
  }
  printSummary(options.job, summaryObject(run.id, final), seconds, options.json, run.resumed ? ' (resumed)' : '');
  if (final.status === 'partial') {
    process.stderr.write(`pubcat: ${options.job} run ${run.id} is partial: ${final.error} (their reasons are logged above); run the same command again to retry them\n`);
    exitWith(EXIT_PARTIAL);
  }
}
