import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { markDeleted, recordMissing, recordUnsettledMissing } from '../../src/load/tombstones.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

describe.each(backends)('tombstones on $name', (backend) => {
  // One database for the file; every test uses its own PMIDs.
  let database: TestDatabase;
  let runId: number;
  const startRun = async () =>
    Number((await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow()).id);
  // Every version's record, the current one's included (the history table keeps superseded ones).
  const versions = async (pmid: number) =>
    (await sql<{ version: number; op: string; reason: string | null; catalogue_id: string; record: unknown; run_id: number | null }>`
      SELECT version, op, reason, catalogue_id, record, run_id FROM v_record_history WHERE pmid = ${pmid} ORDER BY version`.execute(database.db)).rows;
  const status = async (pmid: number) =>
    database.db.selectFrom('catalogue_record').select(['status', 'version']).where('pmid', '=', pmid).executeTakeFirst();
  /** Pretends the record was last checked a day ago, and returns when that was. */
  const checkedYesterday = async (pmid: number) =>
    (
      await database.db.updateTable('catalogue_record').set({ last_checked_at: sql`now() - interval '1 day'` })
        .where('pmid', '=', pmid).returning('last_checked_at').executeTakeFirstOrThrow()
    ).last_checked_at;
  const checkedAt = async (pmid: number) =>
    (await database.db.selectFrom('catalogue_record').select('last_checked_at').where('pmid', '=', pmid).executeTakeFirstOrThrow()).last_checked_at;
  const missRow = (pmid: number) =>
    database.db.selectFrom('missing_pmid').select(['miss_count', 'consecutive_misses', 'last_run_id']).where('pmid', '=', pmid).executeTakeFirst();

  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    runId = await startRun();
  });

  it('tombstones a record with a delete version that keeps its last record and the reason', async () => {
    const record = makeRecord(10, { pmc: 5000010 });
    await upsertRecords(database, [record], runId);
    const deleteRun = await startRun();

    const result = await markDeleted(database.db, [10], deleteRun, 'delete-citation');

    expect(result).toEqual({ tombstoned: [10], alreadyDeleted: 0, unknown: 0 });
    expect(await status(10)).toEqual({ status: 'deleted', version: 2 });
    expect((await versions(10))[1]).toEqual({
      version: 2, op: 'delete', reason: 'delete-citation', catalogue_id: 'pubmed-5000010', record: record.record, run_id: deleteRun,
    });
  });

  it('counts PMIDs never loaded and writes nothing for those already deleted', async () => {
    await upsertRecords(database, [makeRecord(20)], runId);
    await markDeleted(database.db, [20], runId, 'delete-citation');

    const result = await markDeleted(database.db, [20, 21, 22, 21], runId, 'delete-citation');

    expect(result).toEqual({ tombstoned: [], alreadyDeleted: 1, unknown: 2 });
    expect((await versions(20)).map((version) => version.op)).toEqual(['insert', 'delete']);
    expect(await status(21)).toBeUndefined();
  });

  it('asks to tombstone a known record only on its second miss in a row, counting a run once', async () => {
    await upsertRecords(database, [makeRecord(30)], runId);

    expect(await recordMissing(database.db, [30, 31], runId)).toEqual([]);
    expect(await recordMissing(database.db, [30], runId)).toEqual([]);
    expect(await missRow(30)).toEqual({ miss_count: 1, consecutive_misses: 1, last_run_id: runId });

    const nextRun = await startRun();
    expect(await recordMissing(database.db, [30, 31], nextRun)).toEqual([30]);
    expect(await missRow(31)).toEqual({ miss_count: 2, consecutive_misses: 2, last_run_id: nextRun });
  });

  it('counts misses as consecutive across runs that did not ask for the PMID, until a fetch succeeds', async () => {
    await upsertRecords(database, [makeRecord(40)], runId);
    await recordMissing(database.db, [40], runId);
    await startRun(); // a run that did not ask for PMID 40
    await upsertRecords(database, [makeRecord(40)], await startRun()); // fetched again: the count starts over
    expect(await missRow(40)).toMatchObject({ miss_count: 1, consecutive_misses: 0 });

    expect(await recordMissing(database.db, [40], await startRun())).toEqual([]);
    await startRun();
    expect(await recordMissing(database.db, [40], await startRun())).toEqual([40]);
  });

  it('does not ask again for a record already tombstoned', async () => {
    await upsertRecords(database, [makeRecord(50)], runId);
    await recordMissing(database.db, [50], runId);
    const second = await recordMissing(database.db, [50], await startRun());
    await markDeleted(database.db, second, runId, 'missing');

    expect(await recordMissing(database.db, [50], await startRun())).toEqual([]);
    expect((await versions(50)).map((version) => [version.op, version.reason])).toEqual([['insert', null], ['delete', 'missing']]);
  });

  it('counts a miss as a check of the record, so the next refresh asks for it at its usual turn, not first', async () => {
    await upsertRecords(database, [makeRecord(60)], runId);
    const before = await checkedYesterday(60);

    await recordMissing(database.db, [60], runId);

    expect((await checkedAt(60)).getTime()).toBeGreaterThan(before.getTime());
  });

  it('notes an unsettled miss without touching the streak or the check time, and returns only the active records', async () => {
    await upsertRecords(database, [makeRecord(70), makeRecord(71)], runId);
    await markDeleted(database.db, [71], runId, 'delete-citation');
    await recordMissing(database.db, [70], runId);
    const before = await checkedYesterday(70);
    const nextRun = await startRun();

    expect(await recordUnsettledMissing(database.db, [70, 71, 72], nextRun)).toEqual([70]);

    expect(await missRow(70)).toEqual({ miss_count: 2, consecutive_misses: 1, last_run_id: nextRun });
    expect(await missRow(72)).toEqual({ miss_count: 1, consecutive_misses: 0, last_run_id: nextRun });
    expect(await checkedAt(70)).toEqual(before);
  });

  it('counts a DeleteCitation of a tombstone as a check of it, writing no version', async () => {
    await upsertRecords(database, [makeRecord(80)], runId);
    await markDeleted(database.db, [80], runId, 'delete-citation');
    const before = await checkedYesterday(80);

    await markDeleted(database.db, [80], await startRun(), 'delete-citation');

    expect((await checkedAt(80)).getTime()).toBeGreaterThan(before.getTime());
    expect(await status(80)).toEqual({ status: 'deleted', version: 2 });
  });
});
