/** Worker-thread side of the transform pool: transforms the batches it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { transformBatch, type TransformJob } from './transform-batch.js';

parentPort?.on('message', (message: { id: number; job: TransformJob }) => {
  try {
    parentPort!.postMessage({ id: message.id, outcome: transformBatch(message.job) });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: (error as Error).stack ?? String(error) });
  }
});
