/**
 * One NCBI start budget for a deployment: one, two and three `pubcat backfill` processes at once
 * against one scratch PostgreSQL database and the fake E-utilities server, whose start-rate limit
 * counts arrivals in a sliding second (the strictest reading of NCBI's rule) and answers 429
 * beyond it. Each process backfills 60 requests' worth of PMIDs (12,000 at 200 a request), so
 * that the seconds of start-up and the last answer weigh little against the minute of fetching.
 *
 * Printed per run: the 429s (target 0), the most arrivals in any sliding second (at most the
 * rate), and the combined start rate as a ratio of the rate (target ≥ 0.9; the limiter paces at
 * 0.95): the starts after the first, over the time from the first arrival to the last, over the
 * rate, i.e. (n − 1) / (rps × (last − first)). Also each process's share of the starts, the
 * longest gap between two arrivals, and the records/s from the first arrival to the last answer
 * against the bound rps × batch size (CPU-bound at 10 rps and 200 a batch on a small machine:
 * `--batch-size 20` takes the pipeline's work out of the budget's measurement).
 *
 * The stand-in NCBI shares this machine's cores with the processes it measures, which NCBI's
 * servers do not: starved by their parsing, it would note arrivals tens of ms after they came and
 * count 429s for starts that were spaced right. So pubcat runs here at a lower CPU priority
 * (nice 10) than the server (`--same-priority` runs it at the server's, to see the difference).
 *
 *   node dist/bench/budget.js [--requests N] [--rps 3,10] [--processes 1,2,3] [--batch-size N]
 *                             [--same-priority] [--arrivals FILE]   appends each run's arrivals (ms, status, first PMID) as a JSON line
 *                                             DATABASE_URL or TEST_DATABASE_URL picks the server
 *                                             (default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { withScratchDatabase } from './scratch-database.js';
import type { RecordedRequest } from '../test/support/fake-eutils.js';
import { type FakeEutilsThread, startFakeEutilsThread } from '../test/support/fake-eutils-thread.js';
import { maxStartsInAnyWindow } from '../test/support/request-log.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const LATENCY = { fixedMs: 300, perRecordMs: 2 };
const FIRST_PMID = 40_000_000;

/** The value after `--name` on the command line, if any. */
function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}
const numbers = (text: string): number[] => text.split(',').map(Number);
const REQUESTS_PER_PROCESS = Number(option('requests') ?? 60);
const RATES = numbers(option('rps') ?? '3,10');
const PROCESS_COUNTS = numbers(option('processes') ?? '1,2,3');
const BATCH_SIZE = Number(option('batch-size') ?? 200);
const PMIDS_PER_PROCESS = REQUESTS_PER_PROCESS * BATCH_SIZE;
const ARRIVALS_FILE = option('arrivals');
const SAME_PRIORITY = process.argv.includes('--same-priority');
const PUBCAT_NICENESS = 10;

interface Outcome {
  rps: number;
  processes: number;
  requests: RecordedRequest[];
  inserted: number;
  loadBefore: number;
  loadAfter: number;
}


/** Runs `pubcat` to its end; resolves to its stdout, or rejects with its exit code and stderr. */
function runPubcat(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Before its module graph loads and its worker threads start, which inherit the priority.
    if (!SAME_PRIORITY && child.pid !== undefined) setPriority(child.pid, PUBCAT_NICENESS);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`pubcat ${args[0]} exited with ${code}: ${stderr.slice(-2000)}`))));
  });
}

async function concurrentBackfills(server: FakeEutilsThread, rps: number, processes: number, workDir: string): Promise<Outcome> {
  const perProcess = PMIDS_PER_PROCESS;
  const files = Array.from({ length: processes }, (_, index) => {
    const file = join(workDir, `pmids-${rps}-${processes}-${index}.txt`);
    writeFileSync(file, Array.from({ length: perProcess }, (_, offset) => FIRST_PMID + index * perProcess + offset).join('\n'));
    return file;
  });
  await server.setRateLimit(rps);
  return withScratchDatabase(async (databaseUrl) => {
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      EUTILS_BASE_URL: server.url,
      LOG_LEVEL: 'warn',
      PUBCAT_BATCH_SIZE: String(BATCH_SIZE),
      PUBCAT_MAX_RPS: String(rps),
      ...(rps > 3 ? { NCBI_API_KEY: 'benchmarkkey' } : {}),
    };
    // The schema first, so that every backfill starts fetching as soon as it is up.
    await runPubcat(['migrate'], env);
    const before = (await server.requests()).length;
    const loadBefore = loadavg()[0] as number;
    const outputs = await Promise.all(files.map((file) => runPubcat(['backfill', '--file', file, '--no-pmc', '--json'], env)));
    const inserted = outputs.reduce((sum, output) => sum + (JSON.parse(output) as { inserted: number }).inserted, 0);
    return { rps, processes, requests: (await server.requests()).slice(before), inserted, loadBefore, loadAfter: loadavg()[0] as number };
  });
}

function report(outcome: Outcome): void {
  const { rps, processes, requests } = outcome;
  if (ARRIVALS_FILE !== undefined) {
    appendFileSync(ARRIVALS_FILE, `${JSON.stringify(requests.map((request) => [request.at, request.status, Number(request.params.id?.split(',')[0])]))}\n`);
  }
  const arrivals = requests.map((request) => request.at);
  const first = Math.min(...arrivals);
  const startRate = ((requests.length - 1) * 1000) / (Math.max(...arrivals) - first);
  const fetchingSeconds = (Math.max(...requests.map((request) => request.doneAt ?? request.at)) - first) / 1000;
  const recordRate = outcome.inserted / fetchingSeconds;
  const throttled = requests.filter((request) => request.status === 429).length;
  const perProcess = PMIDS_PER_PROCESS;
  const sortedArrivals = [...arrivals].sort((a, b) => a - b);
  const longestGap = Math.max(0, ...sortedArrivals.slice(1).map((at, index) => at - (sortedArrivals[index] as number)));
  const shares = Array.from({ length: processes }, (_, index) =>
    requests.filter((request) => Math.floor((Number(request.params.id?.split(',')[0]) - FIRST_PMID) / perProcess) === index).length,
  );
  console.log(
    `${processes} process${processes === 1 ? ' ' : 'es'} at ${String(rps).padStart(2)} rps: ${String(throttled).padStart(2)} × 429 in ${String(requests.length).padStart(3)} starts ` +
      `(${shares.join('/')}), at most ${maxStartsInAnyWindow(requests)} in a sliding second; ` +
      `${startRate.toFixed(2)} starts/s = ${(startRate / rps).toFixed(3)} of ${rps}/s, longest gap ${longestGap} ms; ` +
      `${recordRate.toFixed(0)} records/s = ${(recordRate / (rps * BATCH_SIZE)).toFixed(3)} of ${rps * BATCH_SIZE}  ` +
      `(load average ${outcome.loadBefore.toFixed(1)} → ${outcome.loadAfter.toFixed(1)})`,
  );
}

export async function main(): Promise<void> {
  const total = Math.max(...PROCESS_COUNTS) * PMIDS_PER_PROCESS;
  // On its own thread, as NCBI is on its own machine: arrivals are noted when they arrive.
  const server = await startFakeEutilsThread({ options: { latency: LATENCY }, replicate: { first: FIRST_PMID, count: total } });
  const workDir = await mkdtemp(join(tmpdir(), 'pubcat-bench-budget-'));
  console.log(
    `concurrent pubcat backfills on one PostgreSQL (fake NCBI: ${LATENCY.fixedMs} ms + ${LATENCY.perRecordMs} ms/record, ` +
      `batch ${BATCH_SIZE}, 429 beyond the rate in any sliding second; ${PMIDS_PER_PROCESS} PMIDs per process)`,
  );
  try {
    for (const rps of RATES) {
      for (const processes of PROCESS_COUNTS) {
        report(await concurrentBackfills(server, rps, processes, workDir));
        await sleep(1100); // let the server's sliding second empty between runs
      }
    }
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
