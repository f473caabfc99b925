/**
 * The fake E-utilities server on its own thread, for benchmarks: the same server, driven by
 * messages. `requests()` returns a copy of the server's request log.
 */
import { Worker } from 'node:worker_threads';
import type { RecordedRequest } from './fake-eutils.js';
import type { WorkerCommand, WorkerSetup } from './fake-eutils-worker.js';

export interface FakeEutilsThread {
  url: string;
  setRateLimit(limit: number | undefined): Promise<void>;
  requests(): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

type CommandWithoutId = WorkerCommand extends infer C ? (C extends unknown ? Omit<C, 'id'> : never) : never;

export async function startFakeEutilsThread(setup: WorkerSetup): Promise<FakeEutilsThread> {
  const worker = new Worker(new URL('./fake-eutils-worker.js', import.meta.url), { workerData: setup });
  const pending = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  const url = new Promise<string>((resolve, reject) => {
    pending.set(0, (value) => resolve(value as string));
    worker.once('error', reject);
  });
  worker.on('message', (message: { id: number; value?: unknown }) => {
    pending.get(message.id)?.(message.value);
    pending.delete(message.id);
  });
  const ask = (command: CommandWithoutId): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      worker.postMessage({ ...command, id });
    });
  return {
    url: await url,
    setRateLimit: async (limit) => {
      await ask({ type: 'setRateLimit', limit });
    },
    requests: async () => (await ask({ type: 'requests' })) as RecordedRequest[],
    close: async () => {
      await ask({ type: 'close' });
      await worker.terminate();
    },
  };
}
