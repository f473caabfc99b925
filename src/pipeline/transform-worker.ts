/** Worker-thread side of the transform pool: transforms the batches it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { transformBatch, type TransformJob } from './transform-batch.js';
import type { WorkerReply } from './transform-pool.js';

parentPort?.on('message', (message: { id: number; job: TransformJob }) => {
  let reply: WorkerReply;
  try {
    const outcome = transformBatch(message.job);
    // The main thread still holds each record's XML: a row whose stored XML is that very text is
    // sent without it (the largest string of the row) and given it back on arrival.
    const sent = new Map(message.job.records.map((record) => [record.pmid, record.xml]));
    const xmlAsSent: number[] = [];
    for (const row of outcome.rows) {
      if (row.pubmed_xml === sent.get(row.pmid)) {
        row.pubmed_xml = '';
        xmlAsSent.push(row.pmid);
      }
    }
    reply = { id: message.id, outcome, xmlAsSent };
  } catch (error) {
    reply = { id: message.id, error: (error as Error).stack ?? String(error) };
  }
  parentPort!.postMessage(reply);
});
