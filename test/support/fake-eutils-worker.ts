/**
 * Runs the fake E-utilities server on a worker thread (see fake-eutils-thread.ts), so that a
 * benchmark's client and server do not share one event loop: NCBI is another machine, and a
 * server that sees requests late because the client is busy would measure the wrong thing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FakeEutilsOptions, startFakeEutils } from './fake-eutils.js';
import { loadPubmedFixtureRecords, replicatedRecordSource } from './ncbi-fixtures.js';

export interface WorkerSetup {
  options: FakeEutilsOptions;
  /** Serve fixture copies for PMIDs first … first + count - 1. */
  replicate?: { first: number; count: number };
}

export type WorkerCommand = { id: number } & ({ type: 'setRateLimit'; limit: number | undefined } | { type: 'requests' } | { type: 'close' });

const port = parentPort;
if (port === null) throw new Error('fake-eutils-worker must run on a worker thread');
const setup = workerData as WorkerSetup;
const server = await startFakeEutils(setup.options);
if (setup.replicate !== undefined) {
  server.addPubmedSource(replicatedRecordSource(loadPubmedFixtureRecords(), setup.replicate.first, setup.replicate.count));
}
port.on('message', (command: WorkerCommand) => {
  switch (command.type) {
    case 'setRateLimit':
      server.setRateLimit(command.limit);
      port.postMessage({ id: command.id });
      break;
    case 'requests':
      port.postMessage({ id: command.id, value: server.requests });
      break;
    case 'close':
      void server.close().then(() => {
        port.postMessage({ id: command.id });
        port.close();
      });
      break;
  }
});
port.postMessage({ id: 0, value: server.url });
