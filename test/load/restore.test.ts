import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { InputError } from '../../src/errors.js';
import { restoreRunTombstones } from '../../src/load/restore.js';
import { markDeleted, recordMissing } from '../../src/load/tombstones.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

describe.each(backends)('restoring a run\'s tombstones on $name', (backend) => {
  let database: TestDatabase;
  const startRun = async (status: 'running' | 'succeeded' = 'succeeded') =>
    Number(
      (await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1', status }).returning('id').executeTakeFirstOrThrow()).id,
    );
  // Every version's record, the current one's included (the history table keeps superseded ones).
  const history = async (pmid: number) =>
    (await sql<{ version: number; op: string; run_id: number | null; record: unknown; reason: string | null }>`
      SELECT version, op, run_id, record, reason FROM v_record_history WHERE pmid = ${pmid} ORDER BY version`.execute(database.db)).rows;
  const current = (pmid: number) =>
    database.db.selectFrom('catalogue_record').select(['status', 'version', 'record']).where('pmid', '=', pmid).executeTakeFirstOrThrow();

  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });

  it('gives each record the run tombstoned its previous record back as a restore naming the run, and leaves later changes alone', async () => {
    const loadRun = await startRun();
    const records = [10, 11, 12, 13].map((pmid) => makeRecord(pmid));
    await upsertRecords(database, records, loadRun);
    const outageRun = await startRun();
    await markDeleted(database.db, [10, 11], outageRun, 'missing');
    await markDeleted(database.db, [12], outageRun, 'delete-citation');
    const otherRun = await startRun();
    await markDeleted(database.db, [13], otherRun, 'missing');
    await upsertRecords(database, [makeRecord(11, { revision: 1 })], await startRun()); // NCBI served it again since
    await recordMissing(database.db, [10], outageRun);

    const result = await restoreRunTombstones(database.db, outageRun);

    expect(result).toEqual({ runId: outageRun, job: 'backfill', tombstones: 3, restored: [10, 12], alreadyRestored: 0, changedSince: 1 });
    expect(await current(10)).toEqual({ status: 'active', version: 3, record: records[0]!.record });
    expect((await history(10)).map(({ op, run_id, reason }) => [op, run_id, reason])).toEqual([
      ['insert', loadRun, null],
      ['delete', outageRun, 'missing'],
      ['restore', outageRun, null],
    ]);
    expect((await history(10))[2]!.record).toEqual(records[0]!.record);
    // The misses behind the tombstone no longer count toward the next one.
    const streak = await database.db.selectFrom('missing_pmid').select('consecutive_misses').where('pmid', '=', 10).executeTakeFirstOrThrow();
    expect(streak.consecutive_misses).toBe(0);
    expect((await history(11)).map(({ op }) => op)).toEqual(['insert', 'delete', 'restore']);
    expect(await current(11)).toMatchObject({ version: 3, record: makeRecord(11, { revision: 1 }).record });
    expect(await current(13)).toMatchObject({ status: 'deleted', version: 2 });

    const again = await restoreRunTombstones(database.db, outageRun);
    expect(again).toMatchObject({ tombstones: 3, restored: [], alreadyRestored: 2, changedSince: 1 });
    expect(await history(10)).toHaveLength(3);
  });

  it('refuses an unknown run, a run that tombstoned nothing, and a run still running, naming the run', async () => {
    const quiet = await startRun();
    const running = await startRun('running');
    const refused = async (runId: number) => {
      const error = await restoreRunTombstones(database.db, runId).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      return (error as InputError).message;
    };

    expect(await refused(9_999)).toBe('run 9999 does not exist: `pubcat status` lists the latest runs');
    expect(await refused(quiet)).toBe(`run ${quiet} (backfill) tombstoned no records: there is nothing to restore`);
    expect(await refused(running)).toBe(`run ${running} (backfill) is still running: restore its tombstones once it has ended`);
  });
});
