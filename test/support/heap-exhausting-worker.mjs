// A transform worker that runs out of its heap on any record whose XML holds the marker
// HEAP-EXHAUSTING-RECORD, as a worker does on a record far too large to parse; it transforms the
// others with the real code from dist/.
import { parentPort } from 'node:worker_threads';
import { transformBatch } from '../../dist/src/pipeline/transform-batch.js';

parentPort.on('message', (message) => {
  if (message.job.records.some((record) => record.xml.includes('HEAP-EXHAUSTING-RECORD'))) {
    const hoard = [];
    for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
  }
  parentPort.postMessage({ id: message.id, outcome: transformBatch(message.job) });
});
