/** `pubcat refresh` through an NCBI outage, and `pubcat restore` of a run's tombstones, as child processes. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markDeleted } from '../../src/load/tombstones.js';
import { runCli } from '../support/cli.js';
import { cliBackends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { makeRecord, upsertRecords } from '../support/records.js';

// Each child process opens the database anew: give a busy machine room.
describe.each(cliBackends)('pubcat refresh and restore on $name', { timeout: 120_000 }, (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    // An NCBI that knows no PMID: HTTP 200 and an empty PubmedArticleSet for every request.
    server = await startFakeEutils({ latency: { fixedMs: 1 } });
    env = { ...database.env, EUTILS_BASE_URL: server.url, NCBI_API_KEY: 'testkey', PUBCAT_MAX_RPS: '10', NCBI_EMAIL: 'pubcat-tests@example.org' };
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  const startRun = async () =>
    Number((await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1', status: 'succeeded' }).returning('id').executeTakeFirstOrThrow()).id);
  const pmids = Array.from({ length: 12 }, (_, index) => 60_000_001 + index);

  it('ends two refreshes during an empty-set outage partial (exit 2) with the reason, tombstoning nothing', async () => {
    await upsertRecords(database, pmids.map((pmid) => makeRecord(pmid)), await startRun());

    const runs = await database.whileDetached(async () => [
      await runCli(['refresh', '--older-than', '0s', '--json'], env),
      await runCli(['refresh', '--older-than', '0s', '--json'], env),
    ]);

    for (const [index, result] of runs.entries()) {
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toMatchObject({ run_id: index + 2, requested: 12, unchanged: 0, deleted: 0, missing: 0, failed: 12 });
      const warnings = result.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line).msg as string);
      expect(warnings).toContain(
        "NCBI left out 12 of a batch's 12 PMIDs, more than PUBCAT_MAX_MISSING_SHARE=5 % of a batch of 200: its missing records are not tombstoned, count as failed, and are asked for again by the next run",
      );
      expect(result.stderr).toMatch(new RegExp(`\\npubcat: refresh run ${index + 2} is partial: .+\\n$`));
    }
    const statuses = await database.db.selectFrom('etl_run').select(['id', 'status']).where('job', '=', 'refresh').orderBy('id').execute();
    expect(statuses).toEqual([{ id: 2, status: 'partial' }, { id: 3, status: 'partial' }]);
    const records = await database.db.selectFrom('catalogue_record').select('status').distinct().execute();
    expect(records).toEqual([{ status: 'active' }]);
  });

  it('restores exactly the records the named run tombstoned, and refuses an unknown run or one without tombstones', async () => {
    const loadRun = await startRun();
    await upsertRecords(database, pmids.map((pmid) => makeRecord(pmid)), loadRun);
    const badRun = await startRun();
    await markDeleted(database.db, pmids.slice(0, 5), badRun, 'missing');
    await markDeleted(database.db, pmids.slice(5, 7), await startRun(), 'missing');

    const [json, again, unknown, none] = await database.whileDetached(async () => [
      await runCli(['restore', '--run', String(badRun), '--json'], env),
      await runCli(['restore', '--run', String(badRun)], env),
      await runCli(['restore', '--run', '99'], env),
      await runCli(['restore', '--run', String(loadRun)], env),
    ]);

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ run_id: badRun, job: 'backfill', tombstones: 5, restored: 5, already_restored: 0, changed_since: 0 });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`restore of backfill run ${badRun}: 5 tombstoned, 0 restored, 5 restored before\n`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('pubcat: run 99 does not exist: `pubcat status` lists the latest runs\n');
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(`pubcat: run ${loadRun} (backfill) tombstoned no records: there is nothing to restore\n`);

    const deleted = await database.db.selectFrom('catalogue_record').select('pmid').where('status', '=', 'deleted').orderBy('pmid').execute();
    expect(deleted.map((row) => row.pmid)).toEqual(pmids.slice(5, 7));
    const restores = await database.db.selectFrom('catalogue_record_version').select(['pmid', 'run_id']).where('op', '=', 'restore').orderBy('pmid').execute();
    expect(restores).toEqual(pmids.slice(0, 5).map((pmid) => ({ pmid, run_id: badRun })));
  });
});
