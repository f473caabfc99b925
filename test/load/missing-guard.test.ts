import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { noteHeldMisses, settleMissing, type MissingGuard } from '../../src/load/missing-guard.js';
import { recordMissing } from '../../src/load/tombstones.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

describe.each(backends)('missing-PMID guard on $name', (backend) => {
  // One database for the file; every test uses its own PMIDs and runs.
  let database: TestDatabase;
  let runId: number;
  const guard: MissingGuard = { maxShare: 0.05, batchSize: 200 };
  const startRun = async (requested = 0) =>
    Number(
      (await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1', requested }).returning('id').executeTakeFirstOrThrow()).id,
    );
  const settle = (missing: number[], requested: number, run = runId, limits: MissingGuard = guard) =>
    database.db.transaction().execute((trx) => settleMissing(trx, run, { missing, requested }, limits));
  const range = (from: number, count: number) => Array.from({ length: count }, (_, index) => from + index);
  const statuses = async (pmids: number[]) =>
    (await database.db.selectFrom('catalogue_record').select('status').where('pmid', 'in', pmids).execute()).map((row) => row.status);
  const streaks = async (pmids: number[]) =>
    (await database.db.selectFrom('missing_pmid').select('consecutive_misses').where('pmid', 'in', pmids).orderBy('pmid').execute()).map(
      (row) => row.consecutive_misses,
    );

  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    runId = await startRun();
  });

  it('tombstones records missing twice in a row while few of a batch are missing', async () => {
    const gone = range(1_000, 3);
    await upsertRecords(database, gone.map((pmid) => makeRecord(pmid)), runId);
    await recordMissing(database.db, gone, await startRun(200));

    const settled = await settle(gone, 200, await startRun(200));

    expect(settled).toEqual({ tombstoned: gone });
    expect(await statuses(gone)).toEqual(['deleted', 'deleted', 'deleted']);
  });

  it('holds a batch with more than the share missing: nothing tombstoned, the streak neither grows nor ends, the records returned as held', async () => {
    const known = range(2_000, 11);
    await upsertRecords(database, known.map((pmid) => makeRecord(pmid)), runId);
    await recordMissing(database.db, known, await startRun(200));
    const unknown = 2_100;

    const settled = await settle([...known, unknown], 200, await startRun());

    expect(settled.tombstoned).toEqual([]);
    expect(settled.held?.pmids).toEqual(known);
    expect(settled.held?.reason).toBe(
      "NCBI left out 12 of a batch's 200 PMIDs, more than PUBCAT_MAX_MISSING_SHARE=5 % of a batch of 200: its missing records are not tombstoned, count as failed, and are asked for again by the next run",
    );
    expect(new Set(await statuses(known))).toEqual(new Set(['active']));
    expect(await streaks([...known, unknown])).toEqual([...known.map(() => 1), 0]);
  });

  it('measures a short last batch against a full one, and the run by all it asked so far', async () => {
    const gone = range(3_000, 2);
    await upsertRecords(database, gone.map((pmid) => makeRecord(pmid)), runId);
    await recordMissing(database.db, gone, await startRun(200));

    // 2 of a last batch of 3, in a run that asked 400 before it: 2 of 403 in all.
    const settled = await settle(gone, 3, await startRun(400));

    expect(settled).toEqual({ tombstoned: gone });
  });

  it('holds every batch while the run as a whole has more than the share missing, and a small run with one miss', async () => {
    const earlier = range(4_000, 30);
    const late = 4_100;
    await upsertRecords(database, [late].map((pmid) => makeRecord(pmid)), runId);
    await recordMissing(database.db, [late], await startRun(200));
    const outageRun = await startRun(400);
    // An outage held an earlier batch of this run, whose misses the pipeline then counted.
    await settle(earlier, 200, outageRun);
    await database.db.updateTable('etl_run').set({ missing: earlier.length }).where('id', '=', outageRun).execute();

    const settled = await settle([late], 200, outageRun);
    expect(settled.held?.pmids).toEqual([late]);
    expect(settled.held?.reason).toMatch(/^NCBI left out 31 of the 600 PMIDs this run asked for so far, more than PUBCAT_MAX_MISSING_SHARE=5 %: /);

    const small = 4_200;
    await upsertRecords(database, [makeRecord(small)], runId);
    const smallRun = await startRun();
    expect((await settle([small], 3, smallRun)).held?.reason).toMatch(/^NCBI left out 1 of the 3 PMIDs this run asked for so far/);
    expect((await settle([small], 3, await startRun(), { maxShare: 1, batchSize: 200 })).held).toBeUndefined();
  });

  it('does not count a run\'s DeleteCitations as misses', async () => {
    const gone = 5_000;
    await upsertRecords(database, [makeRecord(gone)], runId);
    await recordMissing(database.db, [gone], await startRun(200));
    const run = await startRun(200);
    await database.db.updateTable('etl_run').set({ deleted: 50 }).where('id', '=', run).execute();

    expect(await settle([gone], 200, run)).toEqual({ tombstoned: [gone] });
  });

  it('notes only the first hold of a run in its error', async () => {
    const run = { id: runId, replica: 'test:1' };
    const first = await database.db.transaction().execute((trx) => noteHeldMisses(trx, run, 'first reason'));
    const second = await database.db.transaction().execute((trx) => noteHeldMisses(trx, run, 'second reason'));

    expect([first, second]).toEqual([true, false]);
    const row = await database.db.selectFrom('etl_run').select('error').where('id', '=', runId).executeTakeFirstOrThrow();
    expect(row.error).toBe('first reason');
  });
});
