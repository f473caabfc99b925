/**
 * Parse and transform on worker threads. At 10 requests/s NCBI delivers about twice what one core
 * parses, so a backfill spreads batches over the machine's cores while the main thread keeps the
 * HTTP and database work. With no workers the batches are transformed inline (tests, small runs).
 */
import { Worker } from 'node:worker_threads';
import { PubcatError } from '../errors.js';
import { transformBatch, type TransformJob, type TransformOutcome } from './transform-batch.js';

export interface BatchTransformer {
  transform(job: TransformJob): Promise<TransformOutcome>;
  close(): Promise<void>;
}

interface Pending {
  id: number;
  job: TransformJob;
  resolve(outcome: TransformOutcome): void;
  reject(error: Error): void;
}

/** The compiled worker, next to this module in dist/. */
export const TRANSFORM_WORKER_URL = new URL('./transform-worker.js', import.meta.url);

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
  private workers: Worker[] = [];
  private nextId = 0;

  constructor(size: number, workerUrl: URL) {
    for (let index = 0; index < size; index += 1) {
      const worker = new Worker(workerUrl);
      worker.on('message', (message: { id: number; outcome?: TransformOutcome; error?: string }) => this.settle(worker, message));
      worker.on('error', (error) => this.fail(worker, error));
      worker.unref();
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  transform(job: TransformJob): Promise<TransformOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.busy.set(worker, pending);
      worker.postMessage({ id: pending.id, job: pending.job });
    }
  }

  private settle(worker: Worker, message: { id: number; outcome?: TransformOutcome; error?: string }): void {
    const pending = this.busy.get(worker);
    this.busy.delete(worker);
    this.idle.push(worker);
    if (pending !== undefined) {
      if (message.outcome !== undefined) pending.resolve(message.outcome);
      else pending.reject(new PubcatError(`transform worker failed: ${message.error}`, { input: pending.id }));
    }
    this.dispatch();
  }

  /** A crashed worker is dropped; when none is left, nothing queued could ever finish. */
  private fail(worker: Worker, error: Error): void {
    const crash = new PubcatError(`transform worker crashed: ${error.message}`, { cause: error });
    this.busy.get(worker)?.reject(crash);
    this.busy.delete(worker);
    this.workers = this.workers.filter((candidate) => candidate !== worker);
    if (this.workers.length === 0) for (const pending of this.queue.splice(0)) pending.reject(crash);
  }
}
