/**
 * `pubcat retransform` over 50,000 stored records on PostgreSQL, next to its bound measured in the
 * same run: the bare transform of the same XML on the same two worker threads, writing nothing.
 * - nothing changes (the records were built by this transform): target ≥ 0.8× the bare transform;
 * - every record changes (each stored record is first made to look built by an older rule):
 *   target ≥ 0.4×.
 * It creates a scratch database and drops it at the end.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/retransform.js [--quick]
 */
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { pino } from 'pino';
import type { PubmedRecordXml } from '../src/extract/types.js';
import { openDatabase, type CatalogueDatabase } from '../src/load/db.js';
import { migrate } from '../src/load/migrate.js';
import { startOrResumeRun } from '../src/load/runs.js';
import { upsertBatch } from '../src/load/upsert.js';
import { loadBatches } from '../src/pipeline.js';
import { storedBatches } from '../src/pipeline/stored-source.js';
import { createBatchTransformer, type BatchTransformer } from '../src/pipeline/transform-pool.js';
import { withScratchDatabase } from './scratch-database.js';
import { loadPubmedFixtureRecords, replicateRecords } from '../test/support/ncbi-fixtures.js';

const QUICK = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
const RECORDS = QUICK ? 5_000 : 50_000;
const WORKERS = 2;
const BATCH_SIZE = 200;
const BATCHES_IN_FLIGHT = 2 * WORKERS + 2;
const FIRST_PMID = 30_000_001;

function recordBatches(): PubmedRecordXml[][] {
  const pmids = Array.from({ length: RECORDS }, (_, index) => FIRST_PMID + index);
  const copies = replicateRecords(loadPubmedFixtureRecords(), pmids).map((copy): PubmedRecordXml => ({ ...copy, kind: 'article' }));
  const batches: PubmedRecordXml[][] = [];
  for (let start = 0; start < copies.length; start += BATCH_SIZE) batches.push(copies.slice(start, start + BATCH_SIZE));
  return batches;
}

/** The bound: every batch through the worker pool, as many in flight as the retransform keeps, nothing written. */
async function bareTransform(transformer: BatchTransformer, batches: readonly PubmedRecordXml[][]): Promise<number> {
  const start = process.hrtime.bigint();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) await transformer.transform({ records: batches[next++]!, pmc: [] });
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, lane));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function seed(database: CatalogueDatabase, transformer: BatchTransformer, batches: readonly PubmedRecordXml[][]): Promise<void> {
  const run = await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'bench' }).returning('id').executeTakeFirstOrThrow();
  for (const batch of batches) {
    const { rows } = await transformer.transform({ records: batch, pmc: [] });
    await upsertBatch(database, rows, Number(run.id));
  }
}

async function retransformAll(database: CatalogueDatabase, transformer: BatchTransformer, label: string): Promise<{ seconds: number; updated: number; unchanged: number }> {
  const run = await startOrResumeRun(database.db, { job: 'retransform', inputKey: label, params: {} });
  if (run === null) throw new Error('the benchmark run is held by another process');
  const start = process.hrtime.bigint();
  const counters = await loadBatches(
    run,
    storedBatches(database, { selection: { all: true }, batchSize: BATCH_SIZE, checkpoint: null }),
    { database, transformer, logger: pino({ level: 'silent' }) },
    { batchSize: BATCH_SIZE, batchesInFlight: BATCHES_IN_FLIGHT, checked: false },
  );
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, updated: counters.updated, unchanged: counters.unchanged };
}

export async function main(): Promise<void> {
  await withScratchDatabase(async (url) => {
    const transformer = createBatchTransformer(WORKERS);
    const database = await openDatabase({ databaseUrl: url, dataDir: 'unused' });
    try {
      await migrate(database);
      const batches = recordBatches();
      await seed(database, transformer, batches);
      const loadBefore = loadavg()[0]!;
      const bareSeconds = await bareTransform(transformer, batches);
      const unchanged = await retransformAll(database, transformer, 'nothing changes');
      // Not timed: every stored record made to look built by an older rule, so each one changes.
      await sql`UPDATE catalogue_record SET content_hash = 'older-rule', record = jsonb_set(record, '{title}', '"Built by an older rule"')`.execute(database.db);
      await sql`VACUUM ANALYZE catalogue_record`.execute(database.db);
      const changed = await retransformAll(database, transformer, 'every record changes');
      const bareAgain = await bareTransform(transformer, batches);
      const bare = (bareSeconds + bareAgain) / 2;

      const rate = (seconds: number): string => `${(RECORDS / seconds).toFixed(0).padStart(7)} records/s`;
      const verdict = (ratio: number, target: number): string => `${ratio.toFixed(2)}× the bare transform (target ≥ ${target}×): ${ratio >= target ? 'met' : 'NOT met'}`;
      console.log(`retransform bench: ${RECORDS} stored records, ${WORKERS} transform workers, batches of ${BATCH_SIZE}, PostgreSQL ${database.location}`);
      console.log(`load average (1 min) ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
      console.log(`bare transform (2 workers)       ${rate(bare)}  (passes ${bareSeconds.toFixed(1)} s and ${bareAgain.toFixed(1)} s)`);
      console.log(`retransform, nothing changes     ${rate(unchanged.seconds)}  ${verdict(bare / unchanged.seconds, 0.8)}  [${unchanged.unchanged} unchanged]`);
      console.log(`retransform, every record changes ${rate(changed.seconds)}  ${verdict(bare / changed.seconds, 0.4)}  [${changed.updated} updated]`);
    } finally {
      await transformer.close();
      await database.close();
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
