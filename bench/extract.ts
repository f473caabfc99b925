/**
 * Extract throughput against the fake E-utilities server with NCBI-like latency (300 ms + 2 ms
 * per record) and NCBI's start-rate limit enforced (429 beyond it).
 *
 * The bound is rps × batch size: NCBI caps request starts, so no client can beat it. Compared:
 * pubcat's client (requests overlap, starts paced by the shared limiter) and a serial client as
 * EDirect does it (one request at a time, 350 ms sleep between), at 3 rps and at 10 rps.
 *
 * The 10-rps run fetches 3× the PMIDs so that both runs last about 35 s: the latency of the
 * last answer (0.7 s) is paid once per run and would weigh 7 % on a 10-second run. The serial
 * client's rate does not depend on the run length, so it fetches fewer.
 *
 *   node dist/bench/extract.js [--quick]      (or PUBCAT_BENCH_QUICK=1)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { EutilsClient } from '../src/extract/eutils-client.js';
import { cutPubmedArticleSet } from '../src/extract/efetch-response.js';
import { fetchPubmed } from '../src/extract/fetch-pubmed.js';
import { chunk, runConcurrently } from '../src/extract/run-concurrently.js';
import { type FakeEutilsThread, startFakeEutilsThread } from '../test/support/fake-eutils-thread.js';

const BATCH_SIZE = 200;
const LATENCY = { fixedMs: 300, perRecordMs: 2 };
const FIRST_PMID = 40_000_000;
/** PMIDs per fetchPubmed call, and calls in flight, as a pipeline would feed it. */
const PMIDS_PER_CALL = 1000;
const CALLS_IN_FLIGHT = 8;

interface Run {
  label: string;
  rps: number;
  records: number;
  seconds: number;
  throttled: number;
}

/** pubcat's way: many batches in flight; the client's shared limiter paces the starts. */
async function runPubcat(server: FakeEutilsThread, rps: number, pmids: number[]): Promise<Run> {
  const client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-bench', maxRps: rps });
  const before = (await server.requests()).length;
  const started = performance.now();
  const fetched = await runConcurrently(chunk(pmids, PMIDS_PER_CALL), CALLS_IN_FLIGHT, async (slice) => {
    const result = await fetchPubmed(client, slice, { pmc: false, batchSize: BATCH_SIZE });
    return result.articles.length;
  });
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  const records = fetched.reduce((sum, count) => sum + count, 0);
  if (records !== pmids.length) throw new Error(`fetched ${records} of ${pmids.length} records`);
  return { label: 'pubcat (overlapping, paced starts)', rps, records, seconds, throttled: await count429(server, before) };
}

/** EDirect's way: one request at a time, a fixed sleep before each (350 ms, or 110 ms with a key). */
async function runSerial(server: FakeEutilsThread, rps: number, pmids: number[]): Promise<Run> {
  const sleepMs = rps > 3 ? 110 : 350;
  const client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-bench', maxRps: 1000, paceFactor: 1 });
  const before = (await server.requests()).length;
  const started = performance.now();
  let records = 0;
  for (const batch of chunk(pmids, BATCH_SIZE)) {
    await sleep(sleepMs);
    records += (await client.efetch({ db: 'pubmed', id: batch.join(',') }, cutPubmedArticleSet)).records.length;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  return { label: `serial (EDirect: ${sleepMs} ms sleep)`, rps, records, seconds, throttled: await count429(server, before) };
}

async function count429(server: FakeEutilsThread, from: number): Promise<number> {
  return (await server.requests()).slice(from).filter((request) => request.status === 429).length;
}

function report(run: Run): void {
  const perSecond = run.records / run.seconds;
  const bound = run.rps * BATCH_SIZE;
  console.log(
    `${run.label.padEnd(36)} ${String(run.rps).padStart(2)} rps  ${String(run.records).padStart(6)} records in ${run.seconds.toFixed(1).padStart(5)} s  ` +
      `${perSecond.toFixed(0).padStart(5)} rec/s  bound ${bound}  ratio ${(perSecond / bound).toFixed(3)}  429s ${run.throttled}`,
  );
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const quick = argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
  const pubcatCount = { 3: quick ? 4000 : 20_000, 10: quick ? 12_000 : 60_000 };
  const serialCount = quick ? 1000 : 4000;
  const pmidRange = (count: number) => Array.from({ length: count }, (_, index) => FIRST_PMID + index);
  // On its own thread, as NCBI is on its own machine: the server must not wait for the client.
  const server = await startFakeEutilsThread({ options: { latency: LATENCY }, replicate: { first: FIRST_PMID, count: pubcatCount[10] } });
  console.log(`extract: batch ${BATCH_SIZE}, latency ${LATENCY.fixedMs} ms + ${LATENCY.perRecordMs} ms/record, fake NCBI enforcing the rate (429 beyond it)`);
  try {
    for (const rps of [3, 10] as const) {
      await server.setRateLimit(rps);
      report(await runPubcat(server, rps, pmidRange(pubcatCount[rps])));
      await sleep(1100); // let the server's rolling window empty between runs
      report(await runSerial(server, rps, pmidRange(serialCount)));
      await sleep(1100);
    }
  } finally {
    await server.close();
  }
}

await main();
