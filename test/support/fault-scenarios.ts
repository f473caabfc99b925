/**
 * The ways a `pubcat backfill` can meet a broken world, each run as a user runs it (a child
 * process) and judged by how it ends: its exit code, and the one line on stderr that says why.
 * The CLI tests run each scenario; bench/faults.ts runs each many times, counting silent exits.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, childEnvironment, type CliResult } from './cli.js';
import { startFakeEutils, type FakeEutils } from './fake-eutils.js';
import { stockServer } from './pipeline.js';
import { closedPort, startSilentServer, startTcpProxy } from './tcp-proxy.js';

export interface FaultScenario {
  name: string;
  /** Needs a PostgreSQL server (the URL of an empty, migrated or not, database); the others use the embedded one. */
  needsPostgres: boolean;
  expectedCode: number;
  /** What the last line on stderr must say. */
  expectedLine: RegExp;
  /** The longest a run may take, from start to exit. */
  withinMs: number;
  /** `embeddedDataDir`: a migrated embedded catalogue for a run without PostgreSQL to start from a copy of. */
  run(databaseUrl: string | undefined, embeddedDataDir?: string): Promise<CliResult & { ms: number }>;
}

/** Fast retries, so that a scenario ends in seconds; the behaviour is the same with the defaults. */
const QUICK = { LOG_LEVEL: 'warn', PUBCAT_NCBI_ATTEMPTS: '2', NCBI_EMAIL: 'pubcat-tests@example.org' };

export const FAULT_SCENARIOS: FaultScenario[] = [
  {
    name: 'NCBI unreachable',
    needsPostgres: false,
    expectedCode: 1,
    expectedLine: /^pubcat: cannot reach NCBI E-utilities at http:\/\/127\.0\.0\.1:\d+ \(2 attempts, last: no answer: .*ECONNREFUSED.*\); check the network/,
    withinMs: 15_000,
    run: async (_, embeddedDataDir) => {
      const port = await closedPort();
      return backfillWith(undefined, { EUTILS_BASE_URL: `http://127.0.0.1:${port}/entrez/eutils/` }, ['31810187'], undefined, embeddedDataDir);
    },
  },
  {
    name: 'NCBI answers every request with HTTP 503',
    needsPostgres: false,
    expectedCode: 2,
    expectedLine: /^pubcat: backfill run \d+ is partial: 3 PMIDs failed .*run the same command again to retry them$/,
    withinMs: 20_000,
    run: (_, embeddedDataDir) =>
      withFakeNcbi(async (server) => {
        stockServer(server);
        server.setFaults({ serverError: { probability: 1 } });
        return backfillWith(undefined, { EUTILS_BASE_URL: server.url }, ['31810187', '30108519', '29939932'], undefined, embeddedDataDir);
      }),
  },
  {
    name: 'database refuses connections',
    needsPostgres: false,
    expectedCode: 1,
    expectedLine: /^pubcat: cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/pubcat: .*ECONNREFUSED/,
    withinMs: 15_000,
    run: async () => {
      const port = await closedPort();
      return backfillWith(`postgres://postgres@127.0.0.1:${port}/pubcat`, { EUTILS_BASE_URL: 'http://127.0.0.1:9/' }, ['31810187']);
    },
  },
  {
    name: 'database never answers',
    needsPostgres: false,
    expectedCode: 1,
    expectedLine: /^pubcat: .*PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/pubcat.*PUBCAT_DB_CONNECT_TIMEOUT/,
    withinMs: 15_000,
    run: async () => {
      const silent = await startSilentServer();
      try {
        return await backfillWith(
          `postgres://postgres@127.0.0.1:${silent.port}/pubcat`,
          { EUTILS_BASE_URL: 'http://127.0.0.1:9/', PUBCAT_DB_CONNECT_TIMEOUT: '2' },
          ['31810187'],
        );
      } finally {
        await silent.close();
      }
    },
  },
  {
    name: 'database connection dropped mid-run',
    needsPostgres: true,
    expectedCode: 1,
    expectedLine: /^pubcat: .*(lost the connection to the database|PostgreSQL)/,
    withinMs: 30_000,
    run: (databaseUrl) =>
      withFakeNcbi(async (server) => {
        const target = new URL(databaseUrl!);
        const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
        const proxied = new URL(databaseUrl!);
        proxied.port = String(proxy.port);
        const pmids = stockServer(server, 600);
        server.setLatency({ fixedMs: 100 });
        try {
          // Cut once a few batches have been fetched, so the cut lands mid-run (unless the run ended first).
          const cutAfterFetches = async (ended: AbortSignal): Promise<void> => {
            while (!ended.aborted && server.requests.filter((request) => request.utility === 'efetch').length < 4) await pause(20);
            await proxy.cut();
          };
          return await backfillWith(proxied.toString(), { EUTILS_BASE_URL: server.url, PUBCAT_DB_CONNECT_TIMEOUT: '2' }, pmids.map(String), cutAfterFetches);
        } finally {
          await proxy.close();
        }
      }),
  },
];

async function withFakeNcbi<T>(work: (server: FakeEutils) => Promise<T>): Promise<T> {
  const server = await startFakeEutils({ latency: { fixedMs: 2 } });
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}

/** `pubcat backfill` of `pmids` (through a file, so any count fits) in a scratch directory of its own. */
async function backfillWith(
  databaseUrl: string | undefined,
  env: Record<string, string>,
  pmids: string[],
  whileRunning?: (ended: AbortSignal) => Promise<void>,
  embeddedDataDir?: string,
): Promise<CliResult & { ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'pubcat-fault-'));
  try {
    if (embeddedDataDir !== undefined) await cp(embeddedDataDir, join(dir, 'data'), { recursive: true });
    const file = join(dir, 'pmids.txt');
    await writeFile(file, `${pmids.join('\n')}\n`);
    const fullEnv = { ...QUICK, ...env, PUBCAT_DATA_DIR: join(dir, 'data'), ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }) };
    return await runTimed(['backfill', '--file', file, '--batch-size', '50'], fullEnv, whileRunning);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runTimed(
  args: string[],
  env: Record<string, string>,
  whileRunning?: (ended: AbortSignal) => Promise<void>,
): Promise<CliResult & { ms: number }> {
  const startedAt = Date.now();
  const ended = new AbortController();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: childEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended.abort();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt });
    });
    void whileRunning?.(ended.signal).catch(reject);
  });
}

/** The last non-empty line a run wrote on stderr. */
export function lastStderrLine(result: CliResult): string {
  return result.stderr.trimEnd().split('\n').pop() ?? '';
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
