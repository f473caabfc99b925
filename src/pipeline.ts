/**
 * Source → transform → load. A source (pipeline/batch-source.ts) yields batches in input order
 * while their records are still arriving: PMIDs fetched through E-utilities (eutils-source.ts),
 * or records rebuilt from their stored XML. Several batches are in flight at once (enough to keep
 * NCBI's rate limit busy while answers are slow) and transformed on worker threads, but they are
 * loaded strictly in input order (ordered-loads.ts), each in one transaction with the run's
 * counters and checkpoint. So a run killed at any moment resumes after its last loaded batch, and
 * replays nothing that was committed. A run told to stop takes no more input and finishes its
 * batches in flight; one that gives them up (see PipelineContext.cancel) stops waiting for NCBI
 * and loads only the batches that had arrived before the first that had not.
 */
import type { Transaction } from 'kysely';
import type { EutilsClient } from './extract/eutils-client.js';
import type { CatalogueDatabase } from './load/db.js';
import type { FileOrigin } from './load/file-deletions.js';
import type { Database } from './load/schema.js';
import { loadFetchedBatch } from './load/load-batch.js';
import { noteHeldMisses } from './load/missing-guard.js';
import { readStoredPmc } from './load/stored-pmc.js';
import { heartbeat, recordBatchProgress, type RunCounters, type RunHandle } from './load/runs.js';
import type { Logger } from './logger.js';
import type { BatchSource, SourceBatch, SourceParts } from './pipeline/batch-source.js';
import { eutilsBatches } from './pipeline/eutils-source.js';
import { OrderedLoads, type LoadTurn } from './pipeline/ordered-loads.js';
import type { PmidItem } from './pipeline/pmid-input.js';
import type { ProgressReporter } from './pipeline/progress.js';
import type { BatchTransformer } from './pipeline/transform-pool.js';
import type { UpsertRow } from './load/upsert-row.js';

export interface LoadOptions {
  batchSize: number;
  /** Batches fetched at once; loads still happen one at a time, in order. */
  batchesInFlight: number;
  /** Input size when known, for the progress bar. */
  total?: number;
  /** Share of missing PMIDs above which NCBI is not believed (see load/missing-guard.ts; default 5 %). */
  maxMissingShare?: number;
  /** False when the source rebuilds records from stored XML: nothing is checked against NCBI. */
  checked?: boolean;
  /** The bulk file the source reads: its place in NCBI's order decides what is older. */
  origin?: FileOrigin;
  /** Loads under way at once (default two). A bulk file's load takes one at a time: see file-deletions.ts. */
  loadsAtOnce?: number;
  /** Written in each batch's transaction after the run's checkpoint (a bulk file's own checkpoint). */
  afterLoad?: (trx: Transaction<Database>, batch: SourceBatch) => Promise<void>;
}

export interface PipelineOptions extends LoadOptions {
  pmc: boolean;
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

export type { InputCheckpoint } from './pipeline/eutils-source.js';

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

/** Loads the PMIDs `items` names, fetched through E-utilities: see eutils-source.ts. */
export function runPipeline(
  run: RunHandle,
  items: AsyncIterable<PmidItem>,
  context: PipelineContext,
  options: PipelineOptions,
): Promise<RunCounters> {
  const source = eutilsBatches(items, {
    client: context.client,
    logger: context.logger,
    batchSize: options.batchSize,
    pmc: options.pmc,
    checkpoint: run.checkpoint,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
    ...(context.cancel === undefined ? {} : { cancel: context.cancel }),
  });
  return loadBatches(run, source, context, options);
}

/** Transforms the source's batches on the workers and loads them in order, each with the run's counters and checkpoint. */
export async function loadBatches(
  run: RunHandle,
  source: BatchSource,
  context: Omit<PipelineContext, 'client'> & { client?: EutilsClient },
  options: LoadOptions,
): Promise<RunCounters> {
  const { database, logger } = context;
  const counters = { ...run.counters };
  let loadedThrough: unknown = run.checkpoint;
  const givenUp = (error: unknown): boolean => context.cancel?.aborted === true && error === context.cancel.reason;
  if (run.resumed) logger.info({ runId: run.id, checkpoint: run.checkpoint }, 'resuming after the last loaded batch');

  const beat = setInterval(() => void heartbeat(database.db, run).catch(() => undefined), HEARTBEAT_INTERVAL_MS);
  beat.unref();

  const transformed = async (batch: SourceBatch): Promise<Transformed> => {
    const parts = await batch.parts;
    if (parts.records.length === 0) return { batch, parts, rows: [], transformFailed: [], unchanged: 0 };
    const { rows, failed, unchanged } = await context.transformer.transform({
      records: parts.records,
      pmc: parts.pmc,
      stored: parts.stored ?? (await readStoredPmc(database, lackingPmcParts(parts))),
      ...(parts.builtAs === undefined ? {} : { builtAs: parts.builtAs }),
    });
    return { batch, parts, rows, transformFailed: failed, unchanged: unchanged.length };
  };

  const load = async ({ batch, parts, rows, transformFailed, unchanged }: Transformed, turn: LoadTurn): Promise<void> => {
    const delta = await database.db.transaction().execute(async (trx) => {
      turn.began();
      const loaded = await loadFetchedBatch(trx, database.backend, run.id, {
        rows,
        deleted: parts.deleted,
        missing: parts.missing,
        requested: batch.requested,
        ...(parts.versionsRead === undefined ? {} : { versionsRead: parts.versionsRead }),
        ...(options.checked === false ? { checked: false } : {}),
        ...(options.origin === undefined ? {} : { origin: options.origin }),
      }, { maxShare: options.maxMissingShare, batchSize: options.batchSize });
      const failed = [...parts.failed, ...transformFailed, ...loaded.failed];
      const batchDelta: Partial<RunCounters> = {
        ...loaded.counts,
        unchanged: loaded.counts.unchanged + unchanged,
        requested: batch.requested,
        failed: failed.length + (loaded.held?.pmids.length ?? 0),
        invalid: batch.invalid,
      };
      await turn.previousDone;
      await recordBatchProgress(trx, run, batchDelta, batch.checkpoint);
      await options.afterLoad?.(trx, batch);
      if (loaded.held !== undefined && (await noteHeldMisses(trx, run, loaded.held.reason))) logger.warn({ runId: run.id }, loaded.held.reason);
      for (const { pmid, reason } of failed) logger.warn({ pmid, reason }, `PMID ${pmid} failed: ${reason}`);
      for (const { pmid, reason } of loaded.invalidEncoding) logger.warn({ pmid, reason }, `PMID ${pmid} loaded with characters lost: ${reason}`);
      return batchDelta;
    });
    for (const key of Object.keys(delta) as Array<keyof RunCounters>) counters[key] += delta[key] ?? 0;
    loadedThrough = batch.checkpoint;
    context.progress?.update({
      done: batch.done,
      total: options.total,
      records: counters.inserted + counters.updated + counters.unchanged,
      rateLimited: context.client?.stats.rateLimited ?? 0,
      retries: context.client?.stats.retries ?? 0,
    });
  };

  const loads = new OrderedLoads<Transformed>({ inFlight: options.batchesInFlight, loadsAtOnce: options.loadsAtOnce ?? LOADS_AT_ONCE, load });
  try {
    for await (const batch of source) await loads.add(transformed(batch));
    await loads.finish();
  } catch (error) {
    if (!givenUp(error)) throw error;
    logger.warn({ runId: run.id, checkpoint: loadedThrough }, 'gave up the batches still waiting for NCBI; resumed, the run fetches them again');
  } finally {
    clearInterval(beat);
    context.progress?.finish();
    // A failed load leaves later batches running; let them settle before the caller closes things.
    await loads.settled();
  }
  return counters;
}

/** Records with a PMC id for which the source brought no PMC article or summary. */
function lackingPmcParts(parts: SourceParts): number[] {
  const brought = new Map(parts.pmc);
  return parts.records.flatMap((record) => {
    if (record.pmcid === undefined) return [];
    const pmc = brought.get(record.pmcid);
    return pmc?.articleXml !== undefined && pmc.summaryXml !== undefined ? [] : [record.pmid];
  });
}

interface Transformed {
  batch: SourceBatch;
  parts: SourceParts;
  rows: UpsertRow[];
  transformFailed: Array<{ pmid: number; reason: string }>;
  /** Rebuilt records that came out as stored: counted unchanged, nothing to load. */
  unchanged: number;
}
