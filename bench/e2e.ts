/**
 * End to end: `pubcat backfill --file` of 20,000 PMIDs from the fake E-utilities server (300 ms +
 * 2 ms per record, NCBI's start-rate limit enforced with 429s) into a scratch PostgreSQL
 * database, at 3 and at 10 requests/s. Prints records/s against the rate bound (rps × batch
 * size: no client can beat it) and the command's peak RSS at 20,000 and at 200,000 PMIDs.
 * It also prints the CPU each party spent per record (pubcat, its PostgreSQL backends, the fake
 * NCBI in this process) and the rate those costs allow on this machine's cores, since all three
 * share them here. pubcat's share is split by thread: the transform workers, the main thread, and
 * V8's helper threads (garbage collection, mostly); and it is set against a bare fast-xml-parser
 * parse of the same records on one thread, measured in the same run.
 *
 *   node dist/bench/e2e.js [--quick] [--cpu]   DATABASE_URL or TEST_DATABASE_URL picks the server;
 *                                         --cpu runs the 10 requests/s run alone, for its CPU figures
 *                                         (default postgres://postgres@127.0.0.1:5432/postgres)
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { followBackends, peakRssMb, processCpuSeconds, statCpuSeconds } from './process-usage.js';
import { withScratchDatabase } from './scratch-database.js';
import { startFakeEutils, type FakeEutils } from '../test/support/fake-eutils.js';
import { loadPubmedFixtureRecords, replicatedRecordSource } from '../test/support/ncbi-fixtures.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const THREAD_IDS_PRELOAD = new URL('./thread-ids.js', import.meta.url).href;
const TARGET_PUBCAT_MS = 0.5;
const TARGET_POSTGRES_MS = 0.3;
const TARGET_BARE_PARSE_RATIO = 0.35;
const BATCH_SIZE = 200;
const LATENCY = { fixedMs: 300, perRecordMs: 2 };
const FIRST_PMID = 40_000_000;
const quick = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
const cpuOnly = process.argv.includes('--cpu');

interface Outcome {
  pmids: number;
  rps: number;
  /** The whole command, process start-up and schema check included. */
  seconds: number;
  /** From the first request NCBI saw to the last answer it sent: the pipeline's steady rate. */
  fetchingSeconds: number;
  inserted: number;
  peakRssMb: number;
  throttled: number;
  cpu: CpuSeconds;
}

/** CPU seconds (user + system) spent during the backfill, by party. */
interface CpuSeconds {
  pubcat: number;
  /** pubcat's CPU by thread: transform workers, main thread, the rest (V8's GC helpers, libuv). */
  pubcatThreads: { workers: number; main: number; helpers: number };
  /** Undefined when the server's backends cannot be read from /proc (another host, say). */
  postgres: number | undefined;
  fakeNcbi: number;
}


/** Adds each live thread's CPU seconds so far to `threads` (the last reading of a thread is what it used). */
function sampleThreads(pid: number, threads: Map<number, number>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return;
  }
  for (const tid of tids) {
    const seconds = statCpuSeconds(`/proc/${pid}/task/${tid}/stat`);
    if (seconds !== undefined) threads.set(Number(tid), seconds);
  }
}

function splitThreads(pid: number, threads: Map<number, number>, threadIdsFile: string): CpuSeconds['pubcatThreads'] {
  let workerIds: Set<number>;
  try {
    workerIds = new Set(readFileSync(threadIdsFile, 'utf8').split('\n').filter(Boolean).map(Number));
  } catch {
    workerIds = new Set();
  }
  const split = { workers: 0, main: 0, helpers: 0 };
  for (const [tid, seconds] of threads) {
    if (tid === pid) split.main += seconds;
    else if (workerIds.has(tid)) split.workers += seconds;
    else split.helpers += seconds;
  }
  return split;
}

async function backfill(server: FakeEutils, rps: number, count: number, workDir: string): Promise<Outcome> {
  const file = join(workDir, `pmids-${count}.txt`);
  writeFileSync(file, Array.from({ length: count }, (_, index) => FIRST_PMID + index).join('\n'));
  server.setRateLimit(rps);
  const before = server.requests.length;
  return withScratchDatabase(async (databaseUrl, databaseName, admin) => {
    const threadIdsFile = join(workDir, `thread-ids-${rps}-${count}.txt`);
    const env = {
      PATH: process.env.PATH,
      NODE_OPTIONS: `--import=${THREAD_IDS_PRELOAD}`,
      PUBCAT_BENCH_THREAD_IDS: threadIdsFile,
      DATABASE_URL: databaseUrl,
      EUTILS_BASE_URL: server.url,
      LOG_LEVEL: 'warn',
      PUBCAT_BATCH_SIZE: String(BATCH_SIZE),
      ...(rps > 3 ? { NCBI_API_KEY: 'benchmarkkey', PUBCAT_MAX_RPS: String(rps) } : { PUBCAT_MAX_RPS: String(rps) }),
    };
    // The schema is created first, so the timed run is the backfill alone.
    // The CLI file is run as the `pubcat` command is, so its first line's node options apply.
    await runToEnd(spawn(CLI, ['migrate'], { env, stdio: 'ignore' }));
    const started = performance.now();
    const ownCpuBefore = process.cpuUsage();
    const child = spawnPubcat(['backfill', '--file', file, '--no-pmc', '--json'], env);
    const backends = followBackends(admin, databaseName);
    let peak = 0;
    let pubcatCpu = 0;
    const threads = new Map<number, number>();
    const sampler = setInterval(() => {
      peak = Math.max(peak, peakRssMb(child.pid!));
      pubcatCpu = processCpuSeconds(child.pid!) ?? pubcatCpu;
      sampleThreads(child.pid!, threads);
    }, 100);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    await runToEnd(child);
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    const ownCpu = process.cpuUsage(ownCpuBefore);
    const pubcatThreads = splitThreads(child.pid!, threads, threadIdsFile);
    const cpu = { pubcat: pubcatCpu, pubcatThreads, postgres: await backends.stop(), fakeNcbi: (ownCpu.user + ownCpu.system) / 1e6 };
    const summary = JSON.parse(stdout) as { inserted: number };
    const seen = server.requests.slice(before);
    const throttled = seen.filter((request) => request.status === 429).length;
    const fetchingSeconds = (Math.max(...seen.map((request) => request.doneAt ?? request.at)) - Math.min(...seen.map((request) => request.at))) / 1000;
    return { pmids: count, rps, seconds, fetchingSeconds, inserted: summary.inserted, peakRssMb: peak, throttled, cpu };
  });
}

/**
 * The CLI file run as the `pubcat` command is, so its first line's node options apply; with
 * PUBCAT_BENCH_NODE_ARGS (`--cpu-prof`, say, which NODE_OPTIONS refuses) run by node with those
 * options added.
 */
function spawnPubcat(args: string[], env: NodeJS.ProcessEnv): ReturnType<typeof spawn> & { stdout: NonNullable<ReturnType<typeof spawn>['stdout']> } {
  const extra = process.env.PUBCAT_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const stdio: ['ignore', 'pipe', 'inherit'] = ['ignore', 'pipe', 'inherit'];
  if (extra.length === 0) return spawn(CLI, args, { env, stdio });
  const shebang = readFileSync(CLI, 'utf8').split('\n')[0] ?? '';
  const ownOptions = shebang.split(' ').filter((part) => part.startsWith('--'));
  return spawn(process.execPath, [...ownOptions, ...extra, CLI, ...args], { env, stdio });
}

function runToEnd(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`pubcat exited with ${code}`))));
  });
}

/**
 * CPU milliseconds per record of a bare fast-xml-parser parse (default options, one thread) of
 * the records the fake NCBI serves, one whole cycle of its templates at a time.
 */
function bareParseMsPerRecord(source: (pmid: number) => string | undefined, templates: number): number {
  const records = Array.from({ length: templates }, (_, index) => source(FIRST_PMID + index) ?? '');
  const parser = new XMLParser();
  for (const xml of records) parser.parse(xml);
  let parsed = 0;
  const before = process.cpuUsage();
  let used = 0;
  while (used < 2_000_000) {
    for (const xml of records) parser.parse(xml);
    parsed += records.length;
    const cpu = process.cpuUsage(before);
    used = cpu.user + cpu.system;
  }
  return used / 1000 / parsed;
}

function report(outcome: Outcome, bareMs: number): void {
  const rate = outcome.inserted / outcome.seconds;
  const steadyRate = outcome.inserted / outcome.fetchingSeconds;
  const bound = outcome.rps * BATCH_SIZE;
  console.log(
    `${String(outcome.pmids).padStart(7)} PMIDs at ${String(outcome.rps).padStart(2)} rps: ${rate.toFixed(0).padStart(5)} records/s ` +
      `of a ${bound} bound = ${(rate / bound).toFixed(3)}  (${outcome.seconds.toFixed(1)} s, ${outcome.throttled} × 429, peak RSS ${outcome.peakRssMb.toFixed(0)} MB)`,
  );
  console.log(
    `${' '.repeat(26)}first request to last answer: ${steadyRate.toFixed(0).padStart(5)} records/s = ${(steadyRate / bound).toFixed(3)} of the bound (${outcome.fetchingSeconds.toFixed(1)} s)`,
  );
  const perRecordMs = (seconds: number): number => (seconds * 1000) / outcome.inserted;
  const { pubcat, pubcatThreads, postgres, fakeNcbi } = outcome.cpu;
  const postgresText = postgres === undefined ? 'PostgreSQL n/a' : `PostgreSQL ${perRecordMs(postgres).toFixed(2)} ms`;
  const total = pubcat + (postgres ?? 0) + fakeNcbi;
  const cores = availableParallelism();
  const cpuBound = (cores * outcome.inserted) / total;
  console.log(
    `${' '.repeat(26)}CPU per record: pubcat ${perRecordMs(pubcat).toFixed(2)} ms, ${postgresText}, fake NCBI ${perRecordMs(fakeNcbi).toFixed(2)} ms; ` +
      `${cores} cores allow at most ${cpuBound.toFixed(0)} records/s = ${Math.min(1, cpuBound / bound).toFixed(3)} of the bound`,
  );
  const pubcatMs = perRecordMs(pubcat);
  const postgresTarget = postgres === undefined ? '' : `; PostgreSQL ${(perRecordMs(postgres) / TARGET_POSTGRES_MS).toFixed(2)}× its ${TARGET_POSTGRES_MS} ms target`;
  console.log(
    `${' '.repeat(26)}pubcat ${pubcatMs.toFixed(3)} ms = ${(pubcatMs / TARGET_PUBCAT_MS).toFixed(2)}× its ${TARGET_PUBCAT_MS} ms target ` +
      `(workers ${perRecordMs(pubcatThreads.workers).toFixed(3)}, main thread ${perRecordMs(pubcatThreads.main).toFixed(3)}, ` +
      `GC and other helper threads ${perRecordMs(pubcatThreads.helpers).toFixed(3)})${postgresTarget}`,
  );
  const ratio = pubcatMs / bareMs;
  console.log(
    `${' '.repeat(26)}bare fast-xml-parser parse of the same records ${bareMs.toFixed(3)} ms on one thread; pubcat = ${ratio.toFixed(3)}× that ` +
      `(target ≤ ${TARGET_BARE_PARSE_RATIO}×: ${ratio <= TARGET_BARE_PARSE_RATIO ? 'met' : 'NOT met'})`,
  );
}

export async function main(): Promise<void> {
  const server = await startFakeEutils({ latency: LATENCY });
  const small = quick ? 4_000 : 20_000;
  const large = quick ? 40_000 : 200_000;
  const templates = loadPubmedFixtureRecords().filter((record) => record.kind === 'article').length;
  const source = replicatedRecordSource(loadPubmedFixtureRecords(), FIRST_PMID, large);
  server.addPubmedSource(source);
  const bare = (): number => bareParseMsPerRecord(source, templates);
  const workDir = await mkdtemp(join(tmpdir(), 'pubcat-bench-'));
  try {
    console.log(`pubcat backfill end to end (fake NCBI: ${LATENCY.fixedMs} ms + ${LATENCY.perRecordMs} ms/record, batch ${BATCH_SIZE}, PostgreSQL)`);
    if (cpuOnly) {
      report(await backfill(server, 10, small, workDir), bare());
      return;
    }
    const atThree = await backfill(server, 3, small, workDir);
    report(atThree, bare());
    const atTen = await backfill(server, 10, small, workDir);
    report(atTen, bare());
    const largeRun = await backfill(server, 10, large, workDir);
    report(largeRun, bare());
    console.log(`peak RSS ${large} vs ${small} PMIDs: ${(largeRun.peakRssMb / atTen.peakRssMb).toFixed(2)}× (target ≤ 1.2×)`);
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
