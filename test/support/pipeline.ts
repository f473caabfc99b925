/**
 * The pipeline wired to a fake E-utilities server and a test database, in this process, with
 * the transform inline (worker threads need the compiled code; the CLI tests cover those).
 */
import { pino } from 'pino';
import type { JobContext } from '../../jobs/context.js';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { startOrResumeRun, type RunCounters } from '../../src/load/runs.js';
import { runPipeline } from '../../src/pipeline.js';
import { readPmidInput } from '../../src/pipeline/pmid-input.js';
import { createBatchTransformer } from '../../src/pipeline/transform-pool.js';
import type { FakeEutils } from './fake-eutils.js';
import type { TestDatabase } from './databases.js';
import { loadPubmedFixtureRecords, loadSeedPmc, replicateRecords } from './ncbi-fixtures.js';

export const silentLogger = pino({ level: 'silent' });

export function testJobContext(database: TestDatabase, server: FakeEutils, batchSize = 200): JobContext {
  const client = new EutilsClient({
    baseUrl: server.url,
    tool: 'pubcat-test',
    maxRps: 50,
    backoff: { baseDelayMs: 5, maxDelayMs: 50 },
    requestTimeoutMs: 2_000,
  });
  return {
    database,
    client,
    transformer: createBatchTransformer(0),
    logger: silentLogger,
    settings: { batchSize, pmc: true, batchesInFlight: 4 },
  };
}

/** Backfills `pmids` as `pubcat backfill` would (a new run, or the resumed one of the same key). */
export async function backfill(context: JobContext, pmids: number[], inputKey = `test:${pmids.length}:${pmids[0]}`): Promise<RunCounters & { runId: number }> {
  const run = await startOrResumeRun(context.database.db, { job: 'backfill', inputKey, params: {} });
  if (run === null) throw new Error('run is held by another process');
  const counters = await runPipeline(run, readPmidInput({ args: pmids.map(String) }), context, context.settings);
  await context.database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', run.id).execute();
  return { ...counters, runId: run.id };
}

/** Serves the seed article (PubMed + PMC) and `count` fixture copies under PMIDs from 50,000,001. */
export function stockServer(server: FakeEutils, count = 0): number[] {
  const templates = loadPubmedFixtureRecords();
  server.addPubmedRecords(templates.map(({ pmid, xml }) => ({ pmid, xml })));
  const { article, summary } = loadSeedPmc();
  server.addPmcArticles([article]);
  server.addPmcSummaries([summary]);
  const pmids = Array.from({ length: count }, (_, index) => 50_000_001 + index);
  server.addPubmedRecords(replicateRecords(templates, pmids));
  return pmids;
}
