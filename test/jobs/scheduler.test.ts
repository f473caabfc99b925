/**
 * `pubcat schedule` as real replicas against one PostgreSQL (PGlite is one process's database, so
 * these need TEST_DATABASE_URL). The sync job runs every 2 seconds over a saved search served by a
 * fake NCBI; 200 PMIDs in batches of 10 at NCBI's 3 requests/s make a run last several seconds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addSavedSearch } from '../../src/load/saved-searches.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { stockServer } from '../support/pipeline.js';
import { startReplica, waitFor, type Replica } from './replicas.js';

const STALE_SECONDS = 2;
const LONG_AGO = '2020/01/01';

// Replicas take seconds to start and runs last seconds: on a busy machine a test may need more than the default 30 s.
describe.skipIf(postgresBackend === undefined)('pubcat schedule replicas on one PostgreSQL', { timeout: 60_000 }, () => {
  let database: TestDatabase;
  let server: FakeEutils;
  let replicas: Replica[];

  beforeEach(async () => {
    database = await postgresBackend!.open();
    server = await startFakeEutils({ latency: { fixedMs: 50 } });
    replicas = [];
  });
  afterEach(async () => {
    for (const replica of replicas) replica.kill('SIGKILL');
    await Promise.all(replicas.map((replica) => replica.exited));
    await server.close();
    await database.close();
  });

  /** A saved search whose hits were all modified long ago: a first sync loads them, later ones find nothing new. */
  const savedSearch = async (count: number): Promise<number[]> => {
    const pmids = stockServer(server, count);
    server.addSearch('cells', pmids.map((pmid) => ({ pmid, edat: LONG_AGO, mdat: LONG_AGO })));
    await addSavedSearch(database.db, 'cells', 'cells');
    return pmids;
  };
  const start = (): Replica => {
    const replica = startReplica(
      {
        ...database.env,
        EUTILS_BASE_URL: server.url,
        PUBCAT_CRON_SYNC: '*/2 * * * * *',
        PUBCAT_CRON_REFRESH: 'off',
        PUBCAT_BATCH_SIZE: '10',
      },
      STALE_SECONDS,
    );
    replicas.push(replica);
    return replica;
  };
  const syncRuns = () =>
    database.db.selectFrom('etl_run').selectAll().where('job', '=', 'sync').orderBy('id').execute();
  const runningWithProgress = async (atLeast: number) => {
    const running = (await syncRuns()).find((run) => run.status === 'running');
    return running !== undefined && Number(running.checkpoint?.position ?? 0) >= atLeast ? running : undefined;
  };
  const catalogueCounts = async () => ({
    records: Number((await database.db.selectFrom('catalogue_record').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),
    versions: Number((await database.db.selectFrom('catalogue_record_version').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n),
  });
  const replicaOf = (run: { replica: string }): Replica => replicas.find((replica) => run.replica.endsWith(`:${replica.pid}`))!;

  it('runs each fire time exactly once among three replicas', async () => {
    await savedSearch(3);
    const three = [start(), start(), start()];
    await waitFor('three scheduler replicas', () => (three.every((replica) => replica.logs.some((line) => line.msg === 'scheduler started')) ? true : undefined));
    await waitFor('four sync runs', async () => ((await syncRuns()).filter((run) => run.status === 'succeeded').length >= 4 ? true : undefined));
    for (const replica of three) replica.kill('SIGTERM');
    const exits = await Promise.all(three.map((replica) => replica.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);

    const runs = await syncRuns();
    const claims = three.flatMap((replica) => replica.logs.filter((line) => line.msg.startsWith('claimed sync')));
    const skips = three.flatMap((replica) => replica.logs.filter((line) => line.msg.startsWith('skipped sync')));
    // Every claim logged is one row, and no fire time was claimed twice.
    expect(claims.map((line) => line.runId).sort()).toEqual(runs.map((run) => run.id).sort());
    expect(new Set(claims.map((line) => line.scheduledFor)).size).toBe(claims.length);
    // A run the SIGTERM caught part-way is released for the next one to resume; none is left running.
    expect(runs.every((run) => run.scheduled_for !== null)).toBe(true);
    expect(runs.filter((run) => run.status !== 'succeeded').map((run) => [run.status, run.error])).toEqual(
      runs.filter((run) => run.status === 'failed').map(() => ['failed', 'interrupted by shutdown; the next run resumes from its checkpoint']),
    );
    // The replicas did compete: fire times that all three saw went to one, and the two others skipped them.
    const contested = claims.filter((claim) => skips.filter((skip) => skip.scheduledFor === claim.scheduledFor).length === 2);
    expect(contested.length).toBeGreaterThanOrEqual(2);
    expect(await catalogueCounts()).toEqual({ records: 3, versions: 3 });
  });

  it('lets another replica take over a run whose replica was killed, with no record lost or loaded twice', async () => {
    await savedSearch(200);
    start();
    start();
    const running = await waitFor('a sync run with two batches loaded', () => runningWithProgress(20));
    const victim = replicaOf(running);
    victim.kill('SIGKILL');
    await victim.exited;

    const finished = await waitFor('the taken-over run to finish', async () => {
      const run = (await syncRuns()).find((candidate) => candidate.id === running.id);
      return run?.status === 'succeeded' ? run : undefined;
    }, 30_000);
    const survivor = replicas.find((replica) => replica !== victim)!;
    expect(finished.replica).toMatch(new RegExp(`:${survivor.pid}$`));
    expect(survivor.logs.some((line) => line.msg.startsWith(`took over sync run ${running.id} from`) && line.from === running.replica)).toBe(true);
    expect(finished).toMatchObject({ requested: 200, inserted: 200, failed: 0, missing: 0 });
    expect(await catalogueCounts()).toEqual({ records: 200, versions: 200 });
  });

  it('stops within 30 s on SIGTERM with exit 0, and the next run resumes from the checkpoint', async () => {
    const pmids = await savedSearch(200);
    const first = start();
    const running = await waitFor('a sync run with two batches loaded', () => runningWithProgress(20));
    const signalledAt = Date.now();
    first.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(30_000);
    const released = (await syncRuns()).find((run) => run.id === running.id)!;
    expect(released).toMatchObject({ status: 'failed', error: expect.stringContaining('interrupted') });
    const position = Number(released.checkpoint?.position);
    expect(position).toBeGreaterThanOrEqual(20);
    expect(position).toBeLessThan(200);
    expect(released.inserted).toBe(position);

    const fetchesBefore = server.requests.length;
    const second = start();
    const resumed = await waitFor('the resumed run to finish', async () => {
      const run = (await syncRuns()).find((candidate) => candidate.id > running.id && candidate.status === 'succeeded');
      return run;
    }, 30_000);
    expect(second.logs.some((line) => line.msg.startsWith(`claimed sync run ${resumed.id}`) && line.resumedFrom === running.id)).toBe(true);
    expect(resumed).toMatchObject({ requested: 200, inserted: 200, failed: 0 });
    // Only what the first run had not loaded was fetched again.
    const refetched = server.requests
      .slice(fetchesBefore)
      .filter((request) => request.utility === 'efetch')
      .flatMap((request) => request.params.id!.split(','));
    expect(new Set(refetched).size).toBe(pmids.length - position);
    expect(await catalogueCounts()).toEqual({ records: 200, versions: 200 });
  });

  it('stops within 30 s with exit 0 while NCBI stalls mid-run, with no false take-over and no heartbeat on a closed database', async () => {
    await savedSearch(200);
    const replica = start();
    const running = await waitFor('a sync run with two batches loaded', () => runningWithProgress(20));
    // From now on NCBI takes every request, sends half an answer and then nothing.
    server.setFaults({ hang: { probability: 1 } });
    await waitFor('a stalled request', () => (server.requests.some((request) => request.fault === 'hang') ? true : undefined));
    const signalledAt = Date.now();
    replica.kill('SIGTERM');
    const exit = await replica.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(30_000);
    const complaints = replica.logs.filter((line) => line.level >= 50 || /destroyed|took this run over/.test(JSON.stringify(line)));
    expect(complaints).toEqual([]);

    const released = (await syncRuns()).find((run) => run.id === running.id)!;
    expect(released).toMatchObject({ status: 'failed', error: 'interrupted by shutdown; the next run resumes from its checkpoint' });
    // The batches NCBI held were given up, and nothing after them loaded: the next run fetches them.
    const position = Number(released.checkpoint?.position);
    expect(position).toBeLessThan(200);
    expect(released.inserted).toBe(position);
    expect(await catalogueCounts()).toEqual({ records: position, versions: position });
  });
});
