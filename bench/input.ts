/**
 * Memory on bad input: the peak RSS of `pubcat backfill --file` over 5,000,000 invalid lines,
 * and over one 100 MB line with no newline, against the same command over 5,000 invalid lines
 * (and over 500,000, which tells a cost that grows with the input from a one-time step).
 * Refused items must cost nothing that grows with their number (they are counted, and only the
 * first few logged), and a line is never held whole. No refused item reaches NCBI: the fake
 * server stands by and must see no request. The database is a scratch one on a PostgreSQL
 * server, so that the RSS is pubcat's own (the embedded database would add hundreds of MB that
 * hide what the input costs).
 *
 *   node dist/bench/input.js [--quick]      DATABASE_URL or TEST_DATABASE_URL picks the server
 *                                           (default postgres://postgres@127.0.0.1:5432/postgres);
 *                                           --quick: a tenth of the lines, a 10 MB line
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { peakRssMb } from './process-usage.js';
import { withScratchDatabase } from './scratch-database.js';
import { startFakeEutils, type FakeEutils } from '../test/support/fake-eutils.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const quick = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
const SMALL_LINES = 5_000;
const MEDIUM_LINES = quick ? 50_000 : 500_000;
const LARGE_LINES = quick ? 500_000 : 5_000_000;
const LONG_LINE_MB = quick ? 10 : 100;

interface Outcome {
  peakRssMb: number;
  seconds: number;
  invalid: number;
  stderrLines: number;
}

/** Writes a file in 1 MB pieces, so that making a big input takes no memory here either. */
async function writeInput(path: string, pieces: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const piece of pieces) {
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await finished(out);
}

function* invalidLines(count: number): Generator<string> {
  const perPiece = 50_000;
  for (let first = 0; first < count; first += perPiece) {
    const last = Math.min(count, first + perPiece);
    yield Array.from({ length: last - first }, (_, index) => `not-a-pmid-${first + index}\n`).join('');
  }
}

function* oneLine(megabytes: number): Generator<string> {
  const piece = '9'.repeat(1_048_576);
  for (let written = 0; written < megabytes; written += 1) yield piece;
}


async function backfill(file: string, databaseUrl: string, server: FakeEutils): Promise<Outcome> {
  const env = { PATH: process.env.PATH, DATABASE_URL: databaseUrl, EUTILS_BASE_URL: server.url, NCBI_EMAIL: 'bench@example.org', LOG_LEVEL: 'warn' };
  const started = performance.now();
  // The CLI file is run as the `pubcat` command is, so its first line's node options apply.
  const child = spawn(CLI, ['backfill', '--file', file, '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, peakRssMb(child.pid!))), 50);
  let stdout = '';
  let stderrLines = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  // Counted, not kept: were every refused line logged, stderr would run to gigabytes.
  child.stderr.on('data', (chunk: Buffer) => {
    for (let index = chunk.indexOf(10); index !== -1; index = chunk.indexOf(10, index + 1)) stderrLines += 1;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  clearInterval(sampler);
  if (code !== 0) throw new Error(`pubcat exited with ${code}`);
  const { invalid } = JSON.parse(stdout) as { invalid: number };
  return { peakRssMb: peak, seconds: (performance.now() - started) / 1000, invalid, stderrLines };
}

function report(label: string, outcome: Outcome): void {
  console.log(
    `${label.padEnd(28)} peak RSS ${outcome.peakRssMb.toFixed(0).padStart(4)} MB  ` +
      `(${outcome.seconds.toFixed(1)} s, invalid ${outcome.invalid}, ${outcome.stderrLines} lines on stderr)`,
  );
}

export async function main(): Promise<void> {
  const server = await startFakeEutils();
  const workDir = await mkdtemp(join(tmpdir(), 'pubcat-bench-input-'));
  try {
    const small = join(workDir, 'small.txt');
    const medium = join(workDir, 'medium.txt');
    const large = join(workDir, 'large.txt');
    const long = join(workDir, 'long.txt');
    await writeInput(small, invalidLines(SMALL_LINES));
    await writeInput(medium, invalidLines(MEDIUM_LINES));
    await writeInput(large, invalidLines(LARGE_LINES));
    await writeInput(long, oneLine(LONG_LINE_MB));
    console.log('pubcat backfill --file of invalid input (PostgreSQL; refused items never reach NCBI)');
    const smallRun = await withScratchDatabase((url) => backfill(small, url, server));
    report(`${SMALL_LINES} invalid lines`, smallRun);
    const mediumRun = await withScratchDatabase((url) => backfill(medium, url, server));
    report(`${MEDIUM_LINES} invalid lines`, mediumRun);
    const largeRun = await withScratchDatabase((url) => backfill(large, url, server));
    report(`${LARGE_LINES} invalid lines`, largeRun);
    const longRun = await withScratchDatabase((url) => backfill(long, url, server));
    report(`one ${LONG_LINE_MB} MB line`, longRun);
    if (server.requests.length > 0) throw new Error(`NCBI was asked ${server.requests.length} times for input that holds no PMID`);
    console.log(`peak RSS ${LARGE_LINES} vs ${SMALL_LINES} invalid lines: ${(largeRun.peakRssMb / smallRun.peakRssMb).toFixed(2)}× (target ≤ 1.2×)`);
    console.log(`peak RSS ${LARGE_LINES} vs ${MEDIUM_LINES} invalid lines: ${(largeRun.peakRssMb / mediumRun.peakRssMb).toFixed(2)}× (target ≤ 1.2×)`);
    console.log(`peak RSS one ${LONG_LINE_MB} MB line vs ${SMALL_LINES} invalid lines: ${(longRun.peakRssMb / smallRun.peakRssMb).toFixed(2)}× (target ≤ 1.2×)`);
  } finally {
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
