/**
 * `pubcat import` on a local PostgreSQL, next to its bound: 100,000 distinct records (fixture
 * records under new PMIDs) in 5 `.xml.gz` files with md5 sidecars, imported by the command as a
 * user runs it; then, in the same database, COPY of the same final rows (every table the import
 * wrote records into) into bare tables (no index, no constraint). Target: import ≥ 0.5× the COPY
 * rate; the full baseline (38 M records) time the rate implies is printed too. CPU per record is
 * split between pubcat and its PostgreSQL backends (read from /proc while they live).
 *
 * Memory: peak RSS of the command importing one ~150 MB file (uncompressed XML) against one of
 * ~15 MB. Target ≤ 1.2×: gunzip and record cutting stream, so memory does not follow file size.
 *
 *   node dist/bench/import.js [--quick]   DATABASE_URL or TEST_DATABASE_URL picks the server (a
 *   local one: the COPY bound reads and writes the server's files, as a superuser)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGzip } from 'node:zlib';
import pg from 'pg';
import { followBackends, peakRssMb, processCpuSeconds } from './process-usage.js';
import { withScratchDatabase } from './scratch-database.js';
import { loadPubmedFixtureRecords, replicatedRecordSource } from '../test/support/ncbi-fixtures.js';

const quick = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
const RECORDS = quick ? 10_000 : 100_000;
const FILES = 5;
const BIG_MB = quick ? 40 : 150;
const SMALL_MB = quick ? 4 : 15;
const COPY_TARGET = 0.5;
const MEMORY_TARGET = 1.2;
const BASELINE_RECORDS = 38_000_000;
const FIRST_PMID = 70_000_001;
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
/** Tables an import writes record rows into; the others hold bookkeeping. */
const RECORD_TABLES = ['catalogue_record', 'catalogue_record_version', 'record_source', 'record_facet', 'record_mesh', 'record_citation', 'record_change'];

const HEADER = '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n';
const FOOTER = '</PubmedArticleSet>\n';

/** Writes `name` with the records of PMIDs from `first` until `count` records or `maxBytes` of XML; returns the records written. */
async function writeBulkFile(dir: string, name: string, first: number, limit: { count?: number; maxBytes?: number }): Promise<number> {
  const source = replicatedRecordSource(loadPubmedFixtureRecords(), first, 10_000_000);
  const path = join(dir, name);
  const gzip = createGzip({ level: 6 });
  const out = gzip.pipe(createWriteStream(path));
  const write = async (text: string): Promise<void> => {
    if (!gzip.write(text)) await new Promise((resolve) => gzip.once('drain', resolve));
  };
  await write(HEADER);
  let bytes = HEADER.length;
  let count = 0;
  while ((limit.count === undefined || count < limit.count) && (limit.maxBytes === undefined || bytes < limit.maxBytes)) {
    const xml = `${source(first + count)!}\n`;
    await write(xml);
    bytes += Buffer.byteLength(xml);
    count += 1;
  }
  gzip.end(FOOTER);
  await new Promise<void>((resolve) => out.on('finish', () => resolve()));
  const md5 = createHash('md5').update(await readFile(path)).digest('hex');
  await writeFile(`${path}.md5`, `MD5(${name})= ${md5}\n`);
  return count;
}

interface ImportOutcome {
  seconds: number;
  summary: { requested: number; inserted: number; failed: number; files: number };
  peakRssMb: number;
  pubcatCpu: number;
  postgresCpu: number | undefined;
}

async function runImport(paths: string[], databaseUrl: string, databaseName: string, admin: pg.Client): Promise<ImportOutcome> {
  const env = { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...(process.env.PUBCAT_BATCH_SIZE === undefined ? {} : { PUBCAT_BATCH_SIZE: process.env.PUBCAT_BATCH_SIZE }) };
  const started = performance.now();
  const child = spawn(CLI, ['import', ...paths, '--json'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const backends = followBackends(admin, databaseName);
  let peak = 0;
  let cpu = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRssMb(child.pid!));
    cpu = processCpuSeconds(child.pid!) ?? cpu;
  }, 100);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`pubcat import exited with ${code}`);
  return { seconds: (performance.now() - started) / 1000, summary: JSON.parse(stdout), peakRssMb: peak, pubcatCpu: cpu, postgresCpu: await backends.stop() };
}

/**
 * COPY of the record tables' rows out to files, then (timed) into bare copies of the tables. Both
 * run on the server (its files): the timed COPY pays no client transfer, so the bound is, if
 * anything, a little above what a client's COPY reaches.
 */
async function copyBaseline(databaseUrl: string, dir: string): Promise<{ seconds: number; rows: number; mb: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const copies = join(dir, 'copies');
  await mkdir(copies, { mode: 0o777 });
  await chmod(copies, 0o777);
  try {
    const { rows: present } = await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)`,
      [RECORD_TABLES],
    );
    let rows = 0;
    let bytes = 0;
    // Generated columns are not copied out; the bare table takes the stored ones, in that order.
    const columns = new Map<string, string>();
    for (const { name } of present) {
      const { rows: stored } = await client.query<{ name: string }>(
        `SELECT quote_ident(attname) AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
        [name],
      );
      columns.set(name, stored.map((column) => column.name).join(', '));
      await client.query(`COPY ${name} (${columns.get(name)}) TO '${join(copies, name)}'`);
      await client.query(`CREATE TABLE bare_${name} AS SELECT ${columns.get(name)} FROM ${name} WITH NO DATA`);
      rows += Number((await client.query(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
      bytes += (await stat(join(copies, name))).size;
    }
    const started = performance.now();
    for (const { name } of present) await client.query(`COPY bare_${name} (${columns.get(name)}) FROM '${join(copies, name)}'`);
    return { seconds: (performance.now() - started) / 1000, rows, mb: bytes / 1e6 };
  } finally {
    await client.end();
  }
}

export async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pubcat-bench-import-'));
  // The server's COPY writes its files under it (see copyBaseline).
  await chmod(dir, 0o755);
  try {
    const files = join(dir, 'files');
    await mkdir(files);
    const perFile = RECORDS / FILES;
    for (let index = 0; index < FILES; index += 1) {
      await writeBulkFile(files, `pubmed25n${String(index + 1).padStart(4, '0')}.xml.gz`, FIRST_PMID + index * perFile, { count: perFile });
    }
    const gz = (await Promise.all(Array.from({ length: FILES }, (_, index) => stat(join(files, `pubmed25n${String(index + 1).padStart(4, '0')}.xml.gz`))))).reduce((sum, facts) => sum + facts.size, 0);
    console.log(`${RECORDS} records in ${FILES} .xml.gz files (${(gz / 1e6).toFixed(0)} MB compressed)`);
    await withScratchDatabase(async (url, name, admin) => {
      await migrate(url);
      const run = await runImport([files], url, name, admin);
      if (run.summary.inserted !== RECORDS || run.summary.failed !== 0) throw new Error(`import loaded ${JSON.stringify(run.summary)}`);
      const rate = RECORDS / run.seconds;
      const copy = await copyBaseline(url, dir);
      const copyRate = RECORDS / copy.seconds;
      const ratio = rate / copyRate;
      console.log(`pubcat import         ${rate.toFixed(0).padStart(7)} records/s  (${run.seconds.toFixed(1)} s; peak RSS ${run.peakRssMb.toFixed(0)} MB)`);
      console.log(`COPY into bare tables ${copyRate.toFixed(0).padStart(7)} records/s  (${copy.seconds.toFixed(1)} s for ${copy.rows} rows, ${copy.mb.toFixed(0)} MB of the same final rows)`);
      console.log(`import / COPY: ${ratio.toFixed(2)}× (target ≥ ${COPY_TARGET}×) ${ratio >= COPY_TARGET ? 'met' : 'NOT met'}`);
      console.log(`full baseline (${BASELINE_RECORDS / 1e6} M records) at this rate: ${(BASELINE_RECORDS / rate / 3600).toFixed(1)} h (COPY: ${(BASELINE_RECORDS / copyRate / 3600).toFixed(1)} h)`);
      const perRecord = (seconds: number | undefined): string => (seconds === undefined ? 'unreadable' : `${((seconds / RECORDS) * 1e6).toFixed(0)} µs`);
      console.log(`CPU per record: pubcat ${perRecord(run.pubcatCpu)}, PostgreSQL ${perRecord(run.postgresCpu)}`);
    });
    await withScratchDatabase(async (url, name, admin) => {
      await migrate(url);
      const sized = join(dir, 'sized');
      await mkdir(sized);
      const small = await writeBulkFile(sized, 'pubmed25n0101.xml.gz', 80_000_001, { maxBytes: SMALL_MB * 1e6 });
      const big = await writeBulkFile(sized, 'pubmed25n0102.xml.gz', 81_000_001, { maxBytes: BIG_MB * 1e6 });
      const smallRun = await runImport([join(sized, 'pubmed25n0101.xml.gz')], url, name, admin);
      const bigRun = await runImport([join(sized, 'pubmed25n0102.xml.gz')], url, name, admin);
      const ratio = bigRun.peakRssMb / smallRun.peakRssMb;
      console.log(`peak RSS: ${SMALL_MB} MB file (${small} records) ${smallRun.peakRssMb.toFixed(0)} MB, ${BIG_MB} MB file (${big} records) ${bigRun.peakRssMb.toFixed(0)} MB`);
      console.log(`big / small: ${ratio.toFixed(2)}× (target ≤ ${MEMORY_TARGET}×) ${ratio <= MEMORY_TARGET ? 'met' : 'NOT met'}`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function migrate(databaseUrl: string): Promise<void> {
  const child = spawn(CLI, ['migrate'], { env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`pubcat migrate exited with ${String(code)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
