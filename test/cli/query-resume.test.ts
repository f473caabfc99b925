/**
 * `pubcat backfill --query` killed mid-run and started again while PubMed's hit list grew: the
 * resumed run loads the list it started with, and the next run picks up what the query gained.
 */
import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliBackends, type TestDatabase } from '../support/databases.js';
import { CLI_PATH, childEnvironment, runCli } from '../support/cli.js';
import { startFakeEutils, type FakeEutils, type SearchHit } from '../support/fake-eutils.js';
import { stockServer } from '../support/pipeline.js';

const HITS = 200;
const ADDED = 20;
const BATCH = 5;

const asHits = (pmids: number[]): SearchHit[] => pmids.map((pmid) => ({ pmid, edat: '2024/01/01' }));

describe.each(cliBackends)('pubcat backfill --query resumed on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
    // With a key pubcat may start 10 requests a second: the run lasts a few seconds, not ten.
    env = { ...database.env, EUTILS_BASE_URL: server.url, NCBI_API_KEY: 'testkey0123', PUBCAT_MAX_RPS: '10' };
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  const loadedPmids = async (): Promise<Set<number>> =>
    new Set((await database.db.selectFrom('catalogue_record').select('pmid').execute()).map((row) => Number(row.pmid)));

  // Three pubcat processes, each opening the database: longer than a unit test on a busy machine.
  it('loads every hit of the interrupted list although PubMed listed new records before its checkpoint, then the new ones', async () => {
    const pmids = stockServer(server, HITS + ADDED);
    // PubMed lists the newest PMIDs first: the added records take the first positions.
    const original = pmids.slice(0, HITS);
    const added = pmids.slice(HITS);
    server.addSearch('all', asHits(original));
    const args = ['backfill', '--query', 'all', '--batch-size', String(BATCH), '--no-pmc', '--json'];

    await database.whileDetached(async () => {
      const child = spawn(process.execPath, [CLI_PATH, ...args], { env: childEnvironment(env), stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // The 26th batch is only fetched once the first ones are loaded (22 are fetched ahead at 10 requests/s).
      while (child.exitCode === null && server.requests.filter((request) => request.utility === 'efetch').length < 26) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      await exited;
    });
    const killed = await database.db.selectFrom('etl_run').select(['status', 'checkpoint']).executeTakeFirstOrThrow();
    expect(killed.status).toBe('running');
    expect(Number(killed.checkpoint?.position)).toBeGreaterThan(0);
    expect(Number(killed.checkpoint?.position)).toBeLessThan(HITS);

    server.addSearch('all', asHits([...added, ...original]));
    const resumed = await database.whileDetached(() => runCli(args, env));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`backfill run 1 \\(resumed\\): ${HITS} requested, ${HITS} inserted, 0 updated, 0 unchanged`));
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run_id: 1, requested: HITS, inserted: HITS, failed: 0 });
    const afterResume = await loadedPmids();
    expect(original.filter((pmid) => !afterResume.has(pmid))).toEqual([]);
    expect(added.filter((pmid) => afterResume.has(pmid))).toEqual([]);

    const rerun = await database.whileDetached(() => runCli(args, env));
    expect(rerun.code).toBe(0);
    // A new run (its id need not be 2: a killed server may skip sequence numbers) that searched again.
    expect(rerun.stderr).toMatch(new RegExp(`backfill run \\d+: ${HITS + ADDED} requested, ${ADDED} inserted, 0 updated, ${HITS} unchanged`));
    expect(JSON.parse(rerun.stdout)).toMatchObject({ requested: HITS + ADDED, inserted: ADDED, updated: 0, unchanged: HITS, failed: 0 });
    const afterRerun = await loadedPmids();
    expect(added.filter((pmid) => !afterRerun.has(pmid))).toEqual([]);
    const laterVersions = await database.db.selectFrom('catalogue_record_version').select('pmid').where('version', '>', 1).execute();
    expect(laterVersions).toEqual([]);
    const { rows: snapshots } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM query_snapshot`.execute(database.db);
    expect(snapshots[0]?.n).toBe(0);
  }, 120_000);
});
