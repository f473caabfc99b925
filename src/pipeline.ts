/**
 * PMIDs → batches → extract → transform → load. PMIDs stream in and are de-duplicated in a
 * bitmap; batches are fetched several at a time (enough to keep NCBI's rate limit busy while
 * answers are slow) and transformed on worker threads, but they are loaded strictly in input
 * order, each in one transaction with the run's counters and checkpoint. So a run killed at any
 * moment resumes after its last loaded batch, and replays nothing that was committed. A run told
 * to stop takes no more input and finishes its batches in flight; one that gives them up (see
 * PipelineContext.cancel) stops waiting for NCBI and loads only the batches that had arrived
 * before the first that had not.
 */
import type { FetchPubmedResult } from './extract/types.js';
import { fetchPubmed } from './extract/fetch-pubmed.js';
import type { EutilsClient } from './extract/eutils-client.js';
import type { CatalogueDatabase } from './load/db.js';
import { loadFetchedBatch } from './load/load-batch.js';
import { noteHeldMisses } from './load/missing-guard.js';
import { heartbeat, recordBatchProgress, type RunCounters, type RunHandle } from './load/runs.js';
import type { Logger } from './logger.js';
import { InvalidInputLog } from './pipeline/invalid-input-log.js';
import { cancellableInput } from './pipeline/cancellable-input.js';
import type { PmidItem } from './pipeline/pmid-input.js';
import { PmidSet } from './pipeline/pmid-set.js';
import type { ProgressReporter } from './pipeline/progress.js';
import type { BatchTransformer } from './pipeline/transform-pool.js';
import type { UpsertRow } from './load/upsert-row.js';

export interface PipelineOptions {
  batchSize: number;
  pmc: boolean;
  /** Batches fetched at once; loads still happen one at a time, in order. */
  batchesInFlight: number;
  /** Input size when known, for the progress bar. */
  total?: number;
  /** Share of missing PMIDs above which NCBI is not believed (see load/missing-guard.ts; default 5 %). */
  maxMissingShare?: number;
}

export interface PipelineContext {
  database: CatalogueDatabase;
  client: EutilsClient;
  transformer: BatchTransformer;
  logger: Logger;
  progress?: ProgressReporter;
  /** Aborting stops reading input; batches already in flight are finished and checkpointed. */
  signal?: AbortSignal;
  /**
   * Aborted some time after `signal`, when the batches in flight may wait for NCBI no longer:
   * their E-utilities calls end, and neither they nor any batch after them is loaded (the
   * checkpoint stays before them, so the same run fetches them again). Loads under way finish.
   */
  cancel?: AbortSignal;
}

/** Where a run stands in its input: every item up to `position` is loaded (or refused). */
export interface InputCheckpoint {
  position: number;
}

interface Batch {
  pmids: number[];
  /** Position of the last input item the batch covers. */
  endPosition: number;
  /** Input items refused while the batch filled up. */
  invalid: number;
}

/**
 * How long a run told to stop lets its batches in flight wait for NCBI before it gives them up:
 * well inside the 30 s an orchestrator waits before SIGKILL, leaving time to load what arrived,
 * release the run and close.
 */
export const STOP_GRACE_MS = 10_000;

const HEARTBEAT_INTERVAL_MS = 10_000;
/**
 * Batch loads under way at once. Two let the next batch's statement be built and run while the
 * previous one executes; more would only queue on the same cores.
 */
const LOADS_AT_ONCE = 2;

/** Records fetched ahead of the load: enough for NCBI's answers to overlap, few enough for flat memory. */
const RECORDS_IN_FLIGHT = 4_000;

/**
 * Batches in flight: enough to keep `maxRps` request starts busy through about two seconds of
 * NCBI latency (PMC calls included), within the records-in-flight budget, and at least two so
 * that fetching overlaps loading.
 */
export function batchesInFlightFor(maxRps: number, batchSize: number): number {
  return Math.max(2, Math.min(Math.ceil(maxRps * 2) + 2, Math.floor(RECORDS_IN_FLIGHT / batchSize)));
}

export async function runPipeline(
  run: RunHandle,
  items: AsyncIterable<PmidItem>,
  context: PipelineContext,
  options: PipelineOptions,
): Promise<RunCounters> {
  const { database, client, logger } = context;
  const counters = { ...run.counters };
  const resumeAfter = Number((run.checkpoint as InputCheckpoint | null)?.position ?? 0);
  let loadedThrough = resumeAfter;
  const givenUp = (error: unknown): boolean => context.cancel?.aborted === true && error === context.cancel.reason;
  if (run.resumed) logger.info({ runId: run.id, position: resumeAfter }, 'resuming after the last loaded batch');

  const inFlight: InFlightBatch[] = [];
  const beat = setInterval(() => void heartbeat(database.db, run).catch(() => undefined), HEARTBEAT_INTERVAL_MS);
  beat.unref();

  const fetchAndTransform = async (batch: Batch): Promise<Fetched> => {
    if (batch.pmids.length === 0) return { fetched: undefined, rows: [], transformFailed: [] };
    const fetched = await fetchPubmed(client, batch.pmids, { pmc: options.pmc, batchSize: options.batchSize, signal: context.cancel });
    const { rows, failed } = await context.transformer.transform({
      records: [...fetched.articles, ...fetched.books],
      pmc: [...fetched.pmc],
    });
    return { fetched, rows, transformFailed: failed };
  };

  /**
   * Loads one fetched batch in its own transaction. It starts once the batch before it has begun
   * its own (never earlier: on PGlite's single connection, a later batch holding the connection
   * while it waits for an earlier one would deadlock), so on PostgreSQL the two overlap. Its
   * counters and checkpoint are written only once the batch before it has committed, and not at
   * all if that failed: commits follow input order, and the checkpoint never passes a batch that
   * is not loaded.
   */
  const loadAfter = async ({ batch, work }: InFlightBatch, previous: Load, began: () => void): Promise<void> => {
    const result = await work;
    await previous.began;
    const delta = await database.db.transaction().execute(async (trx) => {
      began();
      const loaded = await loadFetchedBatch(trx, database.backend, run.id, {
        rows: result.rows,
        deleted: result.fetched?.deleted ?? [],
        missing: result.fetched?.missing ?? [],
        requested: batch.pmids.length,
      }, { maxShare: options.maxMissingShare, batchSize: options.batchSize });
      const failed = [...(result.fetched?.failed ?? []), ...result.transformFailed, ...loaded.failed];
      const batchDelta: Partial<RunCounters> = {
        ...loaded.counts,
        requested: batch.pmids.length,
        failed: failed.length + (loaded.held?.pmids.length ?? 0),
        invalid: batch.invalid,
      };
      await previous.done;
      await recordBatchProgress(trx, run, batchDelta, { position: batch.endPosition } satisfies InputCheckpoint);
      if (loaded.held !== undefined && (await noteHeldMisses(trx, run, loaded.held.reason))) logger.warn({ runId: run.id }, loaded.held.reason);
      for (const { pmid, reason } of failed) logger.warn({ pmid, reason }, `PMID ${pmid} failed: ${reason}`);
      for (const { pmid, reason } of loaded.invalidEncoding) logger.warn({ pmid, reason }, `PMID ${pmid} loaded with characters lost: ${reason}`);
      return batchDelta;
    });
    for (const key of Object.keys(delta) as Array<keyof RunCounters>) counters[key] += delta[key] ?? 0;
    loadedThrough = batch.endPosition;
    context.progress?.update({
      done: batch.endPosition,
      total: options.total,
      records: counters.inserted + counters.updated + counters.unchanged,
      rateLimited: client.stats.rateLimited,
      retries: client.stats.retries,
    });
  };

  const loading: Load[] = [];
  let lastLoad: Load = { began: Promise.resolve(), done: Promise.resolve() };
  const loadOldest = async (): Promise<void> => {
    let began!: () => void;
    const beganPromise = new Promise<void>((resolve) => (began = resolve));
    const done = loadAfter(inFlight.shift()!, lastLoad, began);
    // A failure surfaces when this load is awaited below; the next load's `previous` sees it too.
    done.catch(() => undefined);
    // A load that fails before its transaction begins must not leave the next one waiting.
    lastLoad = { began: Promise.race([beganPromise, done.then(() => undefined, () => undefined)]), done };
    loading.push(lastLoad);
    if (loading.length >= LOADS_AT_ONCE) await loading.shift()!.done;
  };

  const launch = async (batch: Batch): Promise<void> => {
    const work = fetchAndTransform(batch);
    // Errors surface when the batch's turn to load comes; until then they must not go unhandled.
    work.catch(() => undefined);
    inFlight.push({ batch, work });
    if (inFlight.length >= options.batchesInFlight) await loadOldest();
  };

  const input = cancellableInput(items, context.cancel);
  try {
    const seen = new PmidSet();
    const invalidInput = new InvalidInputLog(logger);
    let batch: Batch = { pmids: [], endPosition: resumeAfter, invalid: 0 };
    try {
      for (let item = await input.next(); item !== undefined; item = await input.next()) {
        if (item.position <= resumeAfter) {
          if (item.kind === 'pmid') seen.add(item.pmid);
          continue;
        }
        if (context.signal?.aborted === true) break;
        if (item.kind === 'invalid') {
          invalidInput.add(item);
          batch.invalid += 1;
        } else if (seen.add(item.pmid)) {
          batch.pmids.push(item.pmid);
        }
        batch.endPosition = item.position;
        if (batch.pmids.length >= options.batchSize) {
          await launch(batch);
          batch = { pmids: [], endPosition: item.position, invalid: 0 };
        }
      }
    } catch (error) {
      // As a `for await` loop would: the input is closed, and the error is the one to report.
      await input.close().catch(() => undefined);
      throw error;
    }
    await input.close();
    invalidInput.finish();
    // Given up, the batch being filled is not fetched: the checkpoint stays before it.
    if (context.cancel?.aborted !== true && (batch.pmids.length > 0 || batch.invalid > 0)) await launch(batch);
    while (inFlight.length > 0) await loadOldest();
    while (loading.length > 0) await loading.shift()!.done;
  } catch (error) {
    if (!givenUp(error)) throw error;
    logger.warn({ runId: run.id, position: loadedThrough }, 'gave up the batches still waiting for NCBI; resumed, the run fetches them again');
  } finally {
    clearInterval(beat);
    context.progress?.finish();
    // A failed load leaves later batches running; let them settle before the caller closes things.
    await Promise.allSettled([...inFlight.map((entry) => entry.work), ...loading.map((load) => load.done)]);
  }
  return counters;
}

/** A batch load: `began` once its transaction is open, `done` once it committed (or failed). */
interface Load {
  began: Promise<void>;
  done: Promise<void>;
}

interface InFlightBatch {
  batch: Batch;
  work: Promise<Fetched>;
}

interface Fetched {
  fetched: FetchPubmedResult | undefined;
  rows: UpsertRow[];
  transformFailed: Array<{ pmid: number; reason: string }>;
}
