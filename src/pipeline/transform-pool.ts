/**
 * Parse and transform on worker threads. At 10 requests/s NCBI delivers about twice what one core
 * parses, so a backfill spreads batches over the machine's cores while the main thread keeps the
 * HTTP and database work. With no workers the batches are transformed inline (tests, small runs).
 *
 * A worker that dies (out of its heap on a huge record, or any crash) is replaced, and its batch
 * is tried again in halves, down to single records: the record that kills a worker fails alone,
 * with the reason, and the rest of its batch goes on.
 */
import { Worker } from 'node:worker_threads';
import { PubcatError } from '../errors.js';
import { transformBatch, type TransformJob, type TransformOutcome } from './transform-batch.js';

export interface BatchTransformer {
  transform(job: TransformJob): Promise<TransformOutcome>;
  close(): Promise<void>;
}

/** A worker's answer to one batch. */
export interface WorkerReply {
  id: number;
  outcome?: TransformOutcome;
  /** PMIDs of the rows sent without their `pubmed_xml`, which is the XML of the job's record. */
  xmlAsSent?: number[];
  error?: string;
}

interface Pending {
  id: number;
  job: TransformJob;
  resolve(outcome: TransformOutcome): void;
  reject(error: Error): void;
}

/** The compiled worker, next to this module in dist/. */
export const TRANSFORM_WORKER_URL = new URL('./transform-worker.js', import.meta.url);

/**
 * A worker's own heap. Set explicitly so that running out of it ends the worker, not the process
 * (V8 aborts the whole process when a worker without limits runs out); a normal batch needs a
 * fraction of it.
 */
export const WORKER_HEAP_MB = 384;

/** Workers dying one after another with no batch done between them: a broken install, not a record. */
const MAX_CRASHES_IN_A_ROW = 16;

export function createBatchTransformer(workers: number, workerUrl: URL = TRANSFORM_WORKER_URL): BatchTransformer {
  if (workers <= 0) {
    return { transform: async (job) => transformBatch(job), close: async () => undefined };
  }
  return new WorkerPool(workers, workerUrl);
}

class WorkerPool implements BatchTransformer {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Pending>();
  private readonly queue: Pending[] = [];
  private readonly workers = new Set<Worker>();
  private nextId = 0;
  private crashesInARow = 0;
  private closing = false;

  /** Started with the first batch: a run that has nothing to transform starts no thread. */
  private started = false;

  constructor(
    private readonly size: number,
    private readonly workerUrl: URL,
  ) {}

  transform(job: TransformJob): Promise<TransformOutcome> {
    if (!this.started) {
      this.started = true;
      for (let index = 0; index < this.size; index += 1) this.spawn();
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.workers].map((worker) => worker.terminate()));
  }

  private spawn(): void {
    const worker = new Worker(this.workerUrl, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    let crash: Error | undefined;
    worker.on('message', (message: WorkerReply) => this.settle(worker, message));
    worker.on('error', (error) => (crash = error));
    worker.on('exit', (code) => this.onExit(worker, crash ?? new Error(`exited with code ${code}`)));
    // An idle worker must not keep the process alive; one with a batch must (see dispatch).
    worker.unref();
    this.workers.add(worker);
    this.idle.push(worker);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.ref();
      worker.postMessage({ id: pending.id, job: pending.job });
    }
  }

  private settle(worker: Worker, message: WorkerReply): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    worker.unref();
    this.idle.push(worker);
    this.crashesInARow = 0;
    if (pending !== undefined) {
      if (message.outcome !== undefined) pending.resolve(withXmlAsSent(message.outcome, message.xmlAsSent ?? [], pending.job));
      else pending.reject(new PubcatError(`transform worker failed: ${message.error}`, { input: pending.id }));
    }
    this.dispatch();
  }

  /** A worker ended: replace it, and retry what it was doing in smaller pieces. */
  private onExit(worker: Worker, error: Error): void {
    this.workers.delete(worker);
    const index = this.idle.indexOf(worker);
    if (index >= 0) this.idle.splice(index, 1);
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    if (this.closing) {
      pending?.reject(new PubcatError('transform workers were closed with a batch in progress'));
      return;
    }
    this.crashesInARow += 1;
    if (this.crashesInARow > MAX_CRASHES_IN_A_ROW) {
      const broken = new PubcatError(`transform workers keep crashing (${this.crashesInARow} in a row, last: ${reasonOf(error)})`, { cause: error });
      pending?.reject(broken);
      if (this.workers.size === 0) for (const queued of this.queue.splice(0)) queued.reject(broken);
      return;
    }
    this.spawn();
    if (pending !== undefined) this.retryInHalves(pending, error);
  }

  private retryInHalves(pending: Pending, error: Error): void {
    const { records } = pending.job;
    if (records.length <= 1) {
      const reason = `transform: the worker died on this record (${reasonOf(error)})`;
      pending.resolve({ rows: [], failed: records.map((record) => ({ pmid: record.pmid, reason })), unchanged: [] });
      return;
    }
    const middle = Math.ceil(records.length / 2);
    const halves = [records.slice(0, middle), records.slice(middle)].map((part) => this.transform(jobFor(part, pending.job)));
    Promise.all(halves).then(
      ([first, second]) =>
        pending.resolve({
          rows: [...first!.rows, ...second!.rows],
          failed: [...first!.failed, ...second!.failed],
          unchanged: [...first!.unchanged, ...second!.unchanged],
        }),
      (failure: Error) => pending.reject(failure),
    );
  }
}

/** The rows sent without their XML given back the XML of the job's record. */
function withXmlAsSent(outcome: TransformOutcome, pmids: readonly number[], job: TransformJob): TransformOutcome {
  if (pmids.length === 0) return outcome;
  const asSent = new Set(pmids);
  const xmlByPmid = new Map(job.records.map((record) => [record.pmid, record.xml]));
  for (const row of outcome.rows) {
    if (asSent.has(row.pmid)) row.pubmed_xml = xmlByPmid.get(row.pmid) ?? row.pubmed_xml;
  }
  return outcome;
}

/** A job for some of a batch's records, with only the PMC data they use. */
function jobFor(records: TransformJob['records'], whole: TransformJob): TransformJob {
  const wanted = new Set(records.flatMap((record) => (record.pmcid === undefined ? [] : [record.pmcid])));
  const pmids = new Set(records.map((record) => record.pmid));
  const job: TransformJob = { records, pmc: whole.pmc.filter(([pmcid]) => wanted.has(pmcid)) };
  if (whole.stored !== undefined) job.stored = whole.stored.filter(([pmid]) => pmids.has(pmid));
  if (whole.builtAs !== undefined) job.builtAs = whole.builtAs.filter(([pmid]) => pmids.has(pmid));
  return job;
}

function reasonOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return code === 'ERR_WORKER_OUT_OF_MEMORY' ? `out of its ${WORKER_HEAP_MB} MB heap` : error.message;
}
