/**
 * Throughput of the load stage on a local PostgreSQL, next to its bound: COPY of the same
 * records (each as one jsonb document, with its PMID) into a bare unindexed table, timed batch
 * by batch in turn with the first load. Three loads of 50,000 records, in batches of
 * BENCH_BATCH_SIZE (default 500; the pipeline's efetch batches are 200):
 * - first load (all new): target ≥ 0.3× the COPY rate;
 * - unchanged re-load: target ≥ 5× the first-load rate, and no table or index grows;
 * - re-load with 10 % changed.
 * Then the CPU PostgreSQL spends per record (its client backends' user + system time, read from
 * /proc before and after each load, as bench/e2e reads it) on bench/e2e's mix, copies of the fixture records under new PMIDs:
 * - first load: target ≤ 0.3 ms per record;
 * - unchanged re-load: target ≤ 0.1 ms per record.
 * It creates a scratch database and drops it at the end.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/load.js
 * (DATABASE_URL or TEST_DATABASE_URL; default postgres://postgres@127.0.0.1:5432/test)
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { openDatabase, type CatalogueDatabase, type DatabaseTarget } from '../src/load/db.js';
import { migrate } from '../src/load/migrate.js';
import type { Database } from '../src/load/schema.js';
import { upsertBatch, type UpsertOutcome } from '../src/load/upsert.js';
import { toUpsertRow, type UpsertRow } from '../src/load/upsert-row.js';
import { transformBatch } from '../src/pipeline/transform-batch.js';
import type { TransformedRecord } from '../src/transform/types.js';
import { processCpuSeconds } from './process-usage.js';
import { withScratchDatabase } from './scratch-database.js';
import { makeRecord } from '../test/support/records.js';
import { loadPubmedFixtureRecords, replicateRecords } from '../test/support/ncbi-fixtures.js';

const RECORDS = 50_000;
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 500);
const FIRST_PMID = 20_000_000;
const TABLES = ['catalogue_record', 'catalogue_record_version', 'record_facet', 'record_source', 'record_mesh'] as const;
const MIX_RECORDS = Number(process.env.BENCH_MIX_RECORDS ?? 10_000);
const MIX_BATCH_SIZE = 200;
const MIX_FIRST_PMID = 60_000_000;

/** The benchmark's records, one batch at a time (built outside the timed part). */
function* batches(revisionOf: (index: number) => number): Generator<TransformedRecord[]> {
  for (let start = 0; start < RECORDS; start += BATCH_SIZE) {
    const batch: TransformedRecord[] = [];
    for (let index = start; index < Math.min(start + BATCH_SIZE, RECORDS); index += 1) {
      // A third of the articles are in PMC, as in PubMed.
      const pmc = index % 3 === 0 ? 5_000_000 + index : undefined;
      batch.push(makeRecord(FIRST_PMID + index, { revision: revisionOf(index), ...(pmc === undefined ? {} : { pmc }) }));
    }
    yield batch;
  }
}

interface Phase {
  seconds: number;
  counts: Record<UpsertOutcome, number>;
}

const elapsedSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/**
 * Loads every batch; `alongside`, when given, runs on each batch too (before or after the load,
 * in turn) and sums its own seconds, so that noise from the rest of the machine falls on both.
 */
async function loadAll(
  target: DatabaseTarget,
  runId: number,
  revisionOf: (index: number) => number,
  alongside?: (batch: TransformedRecord[]) => Promise<number>,
): Promise<Phase & { alongsideSeconds: number }> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0, restored: 0, older: 0, conflict: 0 };
  let seconds = 0;
  let alongsideSeconds = 0;
  let turn = 0;
  for (const batch of batches(revisionOf)) {
    turn += 1;
    if (alongside !== undefined && turn % 2 === 0) alongsideSeconds += await alongside(batch);
    const start = process.hrtime.bigint();
    const result = await upsertBatch(target, batch.map(toUpsertRow), runId);
    seconds += elapsedSince(start);
    if (alongside !== undefined && turn % 2 === 1) alongsideSeconds += await alongside(batch);
    for (const [outcome, count] of Object.entries(result.counts)) counts[outcome as UpsertOutcome] += count;
  }
  return { seconds, counts, alongsideSeconds };
}

/**
 * COPY … FROM STDIN through pg's own client: pg has no public COPY API (pg-copy-streams adds
 * one), but it hands the copy-in phase to the active query object, which is all this needs.
 */
class CopyFromStdin {
  readonly done: Promise<void>;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private error: Error | undefined;

  constructor(private readonly statement: string, private readonly data: Buffer) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: { query(text: string): void }): void {
    connection.query(this.statement);
  }

  handleCopyInResponse(connection: { sendCopyFromChunk(chunk: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleCommandComplete(): void {}

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    if (this.error === undefined) this.settle?.resolve();
    else this.settle?.reject(this.error);
  }
}

/** COPY text format: one line per record, backslashes doubled (JSON never holds a raw tab or newline). */
function copyLines(batch: readonly TransformedRecord[]): Buffer {
  return Buffer.from(batch.map((record) => `${record.pmid}\t${JSON.stringify(record).replaceAll('\\', '\\\\')}\n`).join(''));
}

/** COPY of each batch into a bare, unindexed table, timed per batch. */
async function copyBound(client: pg.Client): Promise<(batch: TransformedRecord[]) => Promise<number>> {
  await client.query('CREATE TABLE copy_bound (pmid bigint, document jsonb)');
  return async (batch) => {
    const start = process.hrtime.bigint();
    const copy = new CopyFromStdin('COPY copy_bound (pmid, document) FROM STDIN', copyLines(batch));
    void client.query(copy as unknown as pg.Submittable);
    await copy.done;
    return elapsedSince(start);
  };
}

/** CPU seconds used so far by each of the database's client backends but `exclude` (autovacuum is not the load's). */
async function backendCpu(admin: pg.Client, database: string, exclude: number): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> $2", [database, exclude]);
  return new Map(rows.map(({ pid }) => [pid, processCpuSeconds(pid) ?? 0]));
}

/** What the backends used between two readings; a backend started in between counts whole. */
function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  return [...after].reduce((sum, [pid, seconds]) => sum + seconds - (before.get(pid) ?? 0), 0);
}

/** PostgreSQL's CPU per record for a first load and an unchanged re-load of the fixture mix, in ms. */
async function fixtureMixCpu(target: DatabaseTarget, runId: number, read: () => Promise<Map<number, number>>): Promise<{ first: number; unchanged: number }> {
  const copies = replicateRecords(loadPubmedFixtureRecords(), Array.from({ length: MIX_RECORDS }, (_, index) => MIX_FIRST_PMID + index));
  const batches: UpsertRow[][] = [];
  for (let start = 0; start < copies.length; start += MIX_BATCH_SIZE) {
    const records = copies.slice(start, start + MIX_BATCH_SIZE).map((copy) => ({ ...copy, kind: 'article' as const }));
    batches.push(transformBatch({ records, pmc: [] }).rows);
  }
  const perRecordMs = async (): Promise<number> => {
    const before = await read();
    for (const rows of batches) await upsertBatch(target, rows, runId);
    return (cpuBetween(before, await read()) * 1000) / MIX_RECORDS;
  };
  return { first: await perRecordMs(), unchanged: await perRecordMs() };
}

async function relationSizes(db: Kysely<Database>): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const table of TABLES) {
    const { rows } = await sql<{ size: string }>`SELECT pg_total_relation_size(${table}::regclass)::text AS size`.execute(db);
    sizes[table] = Number(rows[0]?.size);
  }
  return sizes;
}

const perSecond = (seconds: number): number => RECORDS / seconds;
const rate = (name: string, seconds: number, extra = ''): string =>
  `${name.padEnd(26)} ${perSecond(seconds).toFixed(0).padStart(8)} records/s  (${seconds.toFixed(2)} s)${extra}`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

export async function main(): Promise<void> {
  await withScratchDatabase(async (url, name, admin) => {
    const copyClient = new pg.Client({ connectionString: url });
    const database = await openDatabase({ databaseUrl: url, dataDir: 'unused' });
    try {
      await measureLoads(database, copyClient, admin, name);
    } finally {
      await copyClient.end();
      await database.close();
    }
  });
}

/** The loads, the COPY bound and the CPU accounting, printed beside their targets. */
async function measureLoads(database: CatalogueDatabase, copyClient: pg.Client, admin: pg.Client, name: string): Promise<void> {
  await migrate(database);
  await copyClient.connect();
  const run = await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'bench' }).returning('id').executeTakeFirstOrThrow();
  const runId = Number(run.id);

  const first = await loadAll(database, runId, () => 0, await copyBound(copyClient));
  const copySeconds = first.alongsideSeconds;
  const sizesBefore = await relationSizes(database.db);
  const unchanged = await loadAll(database, runId, () => 0);
  const sizesAfter = await relationSizes(database.db);
  const changed = await loadAll(database, runId, (index) => (index % 10 === 0 ? 1 : 0));
  const copyPid = (await copyClient.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const mixLoad = loadavg()[0]!;
  const mix = await fixtureMixCpu(database, runId, () => backendCpu(admin, name, copyPid));

  console.log(`load bench: ${RECORDS} records in batches of ${BATCH_SIZE}, PostgreSQL ${database.location}`);
  console.log(rate('COPY (bare jsonb table)', copySeconds));
  console.log(rate('first load', first.seconds, `  ${(copySeconds / first.seconds).toFixed(2)}× COPY (target ≥ 0.3×)`));
  console.log(rate('unchanged re-load', unchanged.seconds,
    `  ${(copySeconds / unchanged.seconds).toFixed(2)}× COPY, ${(first.seconds / unchanged.seconds).toFixed(1)}× first load (target ≥ 5×)`));
  console.log(rate('10 % changed re-load', changed.seconds, `  ${(copySeconds / changed.seconds).toFixed(2)}× COPY`));
  console.log(`outcomes: first ${JSON.stringify(first.counts)}`);
  console.log(`          unchanged ${JSON.stringify(unchanged.counts)}`);
  console.log(`          10 % changed ${JSON.stringify(changed.counts)}`);
  const verdict = (ms: number, target: number): string => `${ms.toFixed(3)} ms (target ≤ ${target} ms: ${ms <= target ? 'met' : 'NOT met'})`;
  console.log(`PostgreSQL CPU per record, ${MIX_RECORDS} fixture-mix records in batches of ${MIX_BATCH_SIZE} (load average ${mixLoad.toFixed(2)}):`);
  console.log(`  first load ${verdict(mix.first, 0.3)}, unchanged re-load ${verdict(mix.unchanged, 0.1)}`);
  console.log('size (table + indexes + TOAST) before → after the unchanged re-load:');
  for (const table of TABLES) {
    const before = sizesBefore[table] ?? 0;
    const after = sizesAfter[table] ?? 0;
    console.log(`  ${table.padEnd(26)} ${mb(before).padStart(10)} → ${mb(after).padStart(10)}  ${after > before ? `GREW +${mb(after - before)}` : 'no growth'}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
