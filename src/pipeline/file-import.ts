/**
 * One `import` run over NCBI's bulk files, fed one file at a time (a directory listing, or a
 * download loop as each file arrives). For each file: claim it (import-files.ts; a file done
 * before writes nothing unless forced, one another importer holds is left to it), check it whole
 * (md5 against its sidecar; without one, gzip to its end), then stream it through the pipeline
 * in batches, each loaded with the file's checkpoint in its transaction, under the file-order
 * rules (file-deletions.ts). A refused file is reported with one line naming it, and the run goes on
 * to the next; the run ends `partial` when any file was refused.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { JobContext } from '../../jobs/context.js';
import { ImportFileError } from '../errors.js';
import { checkFile, fileItems, fileOrder } from '../extract/import-file.js';
import { claimFile, closeFile, fileHeartbeat, NO_PROGRESS, noteFileMd5, recordFileProgress, type FileCheckpoint } from '../load/import-files.js';
import { finishRun, startOrResumeRun, type FinishedRun, type RunHandle } from '../load/runs.js';
import { loadBatches } from '../pipeline.js';
import { importBatches } from './import-source.js';
import type { ProgressReporter, ProgressSnapshot } from './progress.js';

const HEARTBEAT_INTERVAL_MS = 10_000;
/**
 * Batches read ahead of the load. The settings' number hides NCBI's latency; a file on disk has
 * none. A file's batches load one at a time, and a batch transforms faster than it loads, so two
 * transformed while one loads keep the load busy. Each batch more is up to MAX_BATCH_BYTES of XML
 * and its rows held at once, for nothing.
 */
const BATCHES_IN_FLIGHT = 2;
const MEGABYTE = 1 << 20;

export interface FileOutcome {
  name: string;
  /** busy: another importer holds the file now; interrupted: a signal stopped it (resumable). */
  status: 'imported' | 'already-done' | 'refused' | 'busy' | 'interrupted';
  /** Records and deleted PMIDs of the file loaded by this run. */
  records: number;
  deleted: number;
  /** Why a file was refused: one line naming the file. */
  reason?: string;
}

export interface FileTally {
  imported: number;
  skipped: number;
  refused: number;
}

export interface ImportRunOptions {
  force: boolean;
  /** A run already claimed (a scheduled import); by default the run is started here. */
  run?: RunHandle;
  /** Records (and deleted PMIDs) per batch; by default the context's batch size (PUBCAT_BATCH_SIZE). */
  batchSize?: number;
  /** Files and bytes this run expects, for the overall progress and ETA. */
  expected?: { files: number; bytes: number };
}

export class ImportRun {
  /** The latest outcome of each file this run was given. */
  private readonly outcomes = new Map<string, FileOutcome>();
  private bytesBefore = 0;
  private filesSeen = 0;

  private constructor(
    private readonly context: JobContext,
    readonly run: RunHandle,
    private readonly options: ImportRunOptions,
  ) {}

  /**
   * Starts an etl_run of job `import`. Its input key is new each time: what resumes is each
   * file, from its own checkpoint, whichever run or importer takes it up.
   */
  static async start(context: JobContext, options: ImportRunOptions): Promise<ImportRun> {
    const run =
      options.run ??
      (await startOrResumeRun(context.database.db, { job: 'import', inputKey: `import:${randomUUID()}`, params: { force: options.force } }));
    if (run === null) throw new Error('a fresh import run key cannot be taken');
    return new ImportRun(context, run, options);
  }

  /** Files imported, skipped (done before, or held by another importer) and refused. */
  get files(): FileTally {
    const tally: FileTally = { imported: 0, skipped: 0, refused: 0 };
    for (const { status } of this.outcomes.values()) {
      if (status === 'imported') tally.imported += 1;
      else if (status === 'refused') tally.refused += 1;
      else if (status !== 'interrupted') tally.skipped += 1;
    }
    return tally;
  }

  /** Why each refused file was refused: one line naming the file. */
  get refusals(): string[] {
    return [...this.outcomes.values()].flatMap((outcome) => (outcome.reason === undefined ? [] : [outcome.reason]));
  }

  /** Imports one file (see the module comment). Throws only when the database fails; a bad file is refused. */
  async importFile(path: string): Promise<FileOutcome> {
    const outcome = await this.importOne(path);
    this.outcomes.set(outcome.name, outcome);
    return outcome;
  }

  private async importOne(path: string): Promise<FileOutcome> {
    const { context, run } = this;
    const { database, logger } = context;
    const name = basename(path);
    this.filesSeen += 1;
    const order = fileOrder(name);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      return this.refuse(name, `${name}: cannot read it: ${(error as Error).message}`);
    }
    if (order === undefined) return this.refuse(name, `${name}: no file number in its name, so its place in NCBI's order is unknown`);
    const claim = await claimFile(database.db, { name, size, ...order }, run.replica, run.id, this.options.force);
    if (!claim.claimed) {
      this.bytesBefore += size;
      if (claim.why === 'done') {
        logger.info({ file: name, records: claim.records, deleted: claim.deleted }, `${name} is imported already (${claim.records} records, ${claim.deleted} deletions): nothing written; --force imports it again`);
        return { name, status: 'already-done', records: 0, deleted: 0 };
      }
      logger.info({ file: name, holder: claim.holder }, `${name} is being imported by another importer (${claim.holder ?? 'claiming it now'}): left to it`);
      return { name, status: 'busy', records: 0, deleted: 0 };
    }
    let md5: string | undefined;
    try {
      md5 = (await checkFile(path)).md5;
      // A file replaced since its checkpoint was written (a fixed download) is read from its start.
      const start = claim.resumed && claim.md5 !== null && claim.md5 !== md5 ? { ...NO_PROGRESS } : claim.checkpoint;
      await noteFileMd5(database.db, name, run.replica, md5);
      if (start.items > 0) logger.info({ file: name, checkpoint: start }, `${name}: resuming after its last loaded batch`);
      const reached = await this.load(path, name, order.order, size, start);
      if (!reached.complete) {
        await closeFile(database.db, name, run.replica, { done: false, error: 'interrupted; import it again to resume', md5 });
        return { name, status: 'interrupted', records: reached.records - start.records, deleted: reached.deleted - start.deleted };
      }
      await closeFile(database.db, name, run.replica, { done: true, md5, checkpoint: reached });
      logger.info({ file: name, records: reached.records, deleted: reached.deleted }, `${name} imported`);
      return { name, status: 'imported', records: reached.records - start.records, deleted: reached.deleted - start.deleted };
    } catch (error) {
      const reason = error instanceof ImportFileError ? error.message : `${name}: ${(error as Error).message}`;
      await closeFile(database.db, name, run.replica, { done: false, error: reason, ...(md5 === undefined ? {} : { md5 }) }).catch(() => undefined);
      if (error instanceof ImportFileError) return this.refuse(name, reason);
      throw error;
    } finally {
      this.bytesBefore += size;
    }
  }

  /** Ends the run: succeeded, or partial when a file was refused (or a PMID failed). */
  async finish(): Promise<FinishedRun | null> {
    const problem = this.refusals.length === 0 ? undefined : `${this.refusals.length} file${this.refusals.length === 1 ? '' : 's'} refused: ${this.refusals.join('; ')}`;
    return finishRun(this.context.database.db, this.run, 'finished', problem);
  }

  private refuse(name: string, reason: string): FileOutcome {
    this.context.logger.warn({ file: name, reason }, `refused ${reason}`);
    return { name, status: 'refused', records: 0, deleted: 0, reason };
  }

  /** Streams the file into the catalogue from `checkpoint`; returns where it got (complete unless stopped). */
  private async load(path: string, name: string, importOrder: number, size: number, checkpoint: FileCheckpoint): Promise<FileCheckpoint & { complete: boolean }> {
    const { context, run } = this;
    let reached = checkpoint;
    let bytes = 0;
    const progress = context.progress === undefined ? undefined : this.fileProgress(context.progress, name, size, () => bytes);
    const items = fileItems(path, (read) => (bytes += read));
    const source = importBatches(items, {
      batchSize: this.options.batchSize ?? context.settings.batchSize,
      checkpoint,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
    const beat = setInterval(() => void fileHeartbeat(context.database.db, name, run.replica).catch(() => undefined), HEARTBEAT_INTERVAL_MS);
    beat.unref();
    let complete = false;
    try {
      const counters = await loadBatches(run, (async function* () {
        yield* source;
        complete = context.signal?.aborted !== true;
      })(), { ...context, ...(progress === undefined ? {} : { progress }) }, {
        batchSize: this.options.batchSize ?? context.settings.batchSize,
        batchesInFlight: Math.min(BATCHES_IN_FLIGHT, context.settings.batchesInFlight),
        origin: { importOrder, fileName: name },
        loadsAtOnce: 1,
        afterLoad: async (trx, batch) => {
          const position = batch.checkpoint as unknown as FileCheckpoint;
          await recordFileProgress(trx, name, run.replica, position);
          reached = position;
          context.logger.debug({ file: name, items: position.items }, 'batch loaded');
        },
      });
      run.counters = counters;
    } finally {
      clearInterval(beat);
    }
    return { ...reached, complete };
  }

  /** Per-file progress reported as the run's: files done of expected, megabytes read of all, records/s. */
  private fileProgress(reporter: ProgressReporter, name: string, size: number, bytesRead: () => number): ProgressReporter {
    const expected = this.options.expected;
    const index = this.filesSeen;
    return {
      update: (snapshot: ProgressSnapshot) => {
        const done = (expected === undefined ? 0 : this.bytesBefore) + bytesRead();
        const total = expected === undefined ? size : expected.bytes;
        reporter.update({
          ...snapshot,
          label: `file ${index}${expected === undefined ? '' : `/${expected.files}`} ${name}`,
          done: Math.round(done / MEGABYTE),
          total: Math.max(1, Math.round(total / MEGABYTE)),
          unit: 'MB',
        });
      },
      // The bar stays up from file to file; the command clears it before its summary.
      finish: () => undefined,
    };
  }
}
