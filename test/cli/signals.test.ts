/**
 * SIGTERM while NCBI stalls (it takes every request, sends the headers and half the body, then
 * nothing): a run still answers within the 30 s the README promises, gives up the batches NCBI
 * holds without loading anything past them, and the same command finishes the run afterwards.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, childEnvironment, type CliResult } from '../support/cli.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { lastStderrLine } from '../support/fault-scenarios.js';
import { stockServer } from '../support/pipeline.js';

/** What the README promises between the signal and the exit. */
const ANSWER_WITHIN_MS = 30_000;

interface Running {
  kill(signal: NodeJS.Signals): void;
  exited: Promise<CliResult & { at: number }>;
}

function startCli(args: string[], env: Record<string, string | undefined>): Running {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: childEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult & { at: number }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, at: Date.now() })),
  );
  return { kill: (signal) => child.kill(signal), exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(backends)('SIGTERM while NCBI stalls, on $name', { timeout: 90_000 }, (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  it('stops a backfill with exit 143 and its line within 30 s, and the same command then loads every record once', async () => {
    const pmids = stockServer(server, 60);
    const env = {
      ...database.env,
      EUTILS_BASE_URL: server.url,
      PUBCAT_BATCH_SIZE: '10',
      PUBCAT_NCBI_ATTEMPTS: '2',
      NCBI_EMAIL: 'pubcat-tests@example.org',
    };
    const args = ['backfill', ...pmids.map(String), '--json'];

    const stopped = await database.whileDetached(async () => {
      const backfill = startCli(args, env);
      // Some batches answered (and loaded), the others held by NCBI from now on.
      await until('two answered efetch requests', () => server.requests.filter((request) => request.doneAt !== undefined).length >= 2);
      server.setFaults({ hang: { probability: 1 } });
      await until('a stalled request', () => server.requests.some((request) => request.fault === 'hang'));
      const signalledAt = Date.now();
      backfill.kill('SIGTERM');
      const result = await backfill.exited;
      return { ...result, ms: result.at - signalledAt };
    });
    expect(lastStderrLine(stopped)).toBe('pubcat: backfill run 1 stopped by SIGTERM after its last loaded batch; run the same command again to resume');
    expect(stopped.code).toBe(143);
    expect(stopped.ms).toBeLessThan(ANSWER_WITHIN_MS);

    const run = await database.db.selectFrom('etl_run').selectAll().executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'failed', error: 'interrupted by SIGTERM; run the same command again to resume' });
    const position = Number(run.checkpoint?.position);
    expect(position).toBeLessThan(pmids.length);
    // Exactly the PMIDs up to the checkpoint are loaded: none from a batch after one NCBI held.
    const loaded = await database.db.selectFrom('catalogue_record').select('pmid').orderBy('pmid').execute();
    expect(loaded.map((row) => Number(row.pmid))).toEqual(pmids.slice(0, position));
    expect(run.inserted).toBe(position);

    server.setFaults({});
    const requestsBefore = server.requests.length;
    const resumed = await database.whileDetached(async () => startCli(args, env).exited);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run_id: 1, requested: 60, inserted: 60, failed: 0 });
    const refetched = server.requests.slice(requestsBefore).flatMap((request) => request.params.id!.split(',').map(Number));
    expect(refetched.sort((a, b) => a - b)).toEqual(pmids.slice(position));
    const versions = await database.db.selectFrom('catalogue_record_version').select(['pmid', 'version']).execute();
    expect(versions).toHaveLength(60);
    expect(versions.every((row) => row.version === 1)).toBe(true);
  });
});
