/** The scheduled `import --remote updates`: once per fire time across replicas, never two at once, files imported once. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimRun, takeOverStaleRun } from '../../src/load/run-claims.js';
import { scheduledJobs } from '../../jobs/definitions.js';
import { startScheduler } from '../../jobs/scheduler.js';
import { importUpdates, UPDATES_INPUT_KEY } from '../../jobs/updates.js';
import { finishRun, startOrResumeRun } from '../../src/load/runs.js';
import { articles, bulkXml, importContext } from '../support/bulk-files.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeNcbiFiles, type FakeNcbiFiles } from '../support/fake-ncbi-files.js';
import { waitFor } from './replicas.js';

const TICK = new Date('2026-01-01T06:00:00Z');
const NEXT_TICK = new Date('2026-01-02T06:00:00Z');
const FILES = ['pubmed25n1301.xml.gz', 'pubmed25n1302.xml.gz'];

describe.each(backends)('the scheduled update import on $name', (backend) => {
  let database: TestDatabase;
  let files: FakeNcbiFiles;
  let dataDir: string;

  beforeEach(async () => {
    database = await backend.open();
    files = await startFakeNcbiFiles();
    dataDir = await mkdtemp(join(tmpdir(), 'pubcat-updates-'));
  });
  afterEach(async () => {
    await files.close();
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const claim = (replica: string, scheduledFor: Date) =>
    claimRun(database.db, { job: 'import', inputKey: UPDATES_INPUT_KEY, scheduledFor, params: {}, resumeReleased: false, replica });

  it('claims a fire time once, never overlaps itself, is not held back by imports run by hand and takes over only its own runs', async () => {
    const manual = await startOrResumeRun(database.db, { job: 'import', inputKey: 'import:by-hand', params: {}, replica: 'm:9' });
    const first = await claim('a:1', TICK);
    expect(first?.run).toMatchObject({ job: 'import', scheduledFor: TICK, replica: 'a:1' });
    expect(await claim('b:2', TICK)).toBeNull();
    expect(await claim('b:2', NEXT_TICK)).toBeNull();

    await sql`UPDATE etl_run SET heartbeat_at = now() - interval '1 hour'`.execute(database.db);
    const taken = await takeOverStaleRun(database.db, 'import', 60, 'b:2', UPDATES_INPUT_KEY);
    expect(taken?.run.id).toBe(first!.run.id);
    expect(await takeOverStaleRun(database.db, 'import', 60, 'c:3', UPDATES_INPUT_KEY)).toBeNull();
    const byHand = await database.db.selectFrom('etl_run').select(['replica', 'status']).where('id', '=', manual!.id).executeTakeFirstOrThrow();
    expect(byHand).toEqual({ replica: 'm:9', status: 'running' });
  });

  it('runs from two schedulers: every file is downloaded and imported once', { timeout: 60_000 }, async () => {
    const [one, two] = articles([70_000_001, 70_000_002, 70_000_003]).reduce<[string[], string[]]>(
      (halves, record, index) => (halves[index === 0 ? 0 : 1].push(record.xml), halves),
      [[], []],
    );
    files.put('updates', FILES[0]!, gzipSync(bulkXml({ records: one })));
    files.put('updates', FILES[1]!, gzipSync(bulkXml({ records: two })));
    const jobs = scheduledJobs({
      cronRefresh: null,
      cronSync: null,
      cronUpdates: '*/1 * * * * *',
      filesBaseUrl: files.url,
      dataDir,
      ncbiAttempts: 2,
      ncbiTimeoutSeconds: 5,
      ncbiTool: 'pubcat-test',
    });
    expect(jobs.map((job) => job.name)).toEqual(['import']);
    const context = importContext(database);
    const schedulers = ['a:1', 'b:2'].map((replica) => startScheduler({ jobs, context, replica, staleSeconds: 30 }));
    const runs = () => database.db.selectFrom('etl_run').selectAll().where('job', '=', 'import').orderBy('id').execute();
    try {
      await waitFor('two finished update imports', async () => ((await runs()).filter((run) => run.status === 'succeeded').length >= 2 ? true : undefined), 40_000);
    } finally {
      await Promise.all(schedulers.map((scheduler) => scheduler.stop(1_000)));
    }
    const all = await runs();
    expect(new Set(all.map((run) => run.scheduled_for?.toISOString())).size).toBe(all.length);
    expect(all.reduce((sum, run) => sum + run.inserted, 0)).toBe(3);
    const done = await database.db.selectFrom('import_file').select(['name', 'status']).orderBy('name').execute();
    expect(done).toEqual(FILES.map((name) => ({ name, status: 'done' })));
    for (const name of FILES) expect(files.requests.filter((request) => request.path.endsWith(`/${name}`))).toHaveLength(1);
  });

  it('notes a refused file on the run, so that the scheduler ends it partial, and keeps the file', async () => {
    files.put('updates', FILES[0]!, gzipSync('<PubmedArticleSet><PubmedArticle><MedlineCitation>'));
    const claimed = await claim('a:1', TICK);
    const config = { filesBaseUrl: files.url, dataDir, ncbiAttempts: 2, ncbiTimeoutSeconds: 5, ncbiTool: 'pubcat-test' };
    await importUpdates(claimed!.run, importContext(database), config);
    const finished = await finishRun(database.db, claimed!.run, 'finished');
    expect(finished).toMatchObject({ status: 'partial', error: expect.stringMatching(new RegExp(`^1 file refused: ${FILES[0]}`)) });
    expect(readFileSync(join(dataDir, 'downloads', FILES[0]!)).length).toBeGreaterThan(0);
  });
});
