import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { closeDeadBackfills, recordBatchProgress, RunTakenOverError, startOrResumeRun, thisReplica } from '../../src/load/runs.js';
import { backends, type TestDatabase } from '../support/databases.js';

describe.each(backends)('run bookkeeping on $name', (backend) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await backend.open();
  });
  afterEach(async () => {
    await database.close();
  });

  const start = (replica: string, inputKey = 'file:a') =>
    startOrResumeRun(database.db, { job: 'backfill', inputKey, params: {}, replica });

  it('starts a new run, and resumes it with its counters and checkpoint once its process is gone', async () => {
    const first = await start('elsewhere:1');
    expect(first).toMatchObject({ id: 1, resumed: false, checkpoint: null });
    await recordBatchProgress(database.db, first!, { requested: 200, inserted: 150, unchanged: 50 }, { position: 200 });
    await database.db.updateTable('etl_run').set({ status: 'failed' }).execute();

    const resumed = await start(thisReplica());
    expect(resumed).toMatchObject({ id: 1, resumed: true, checkpoint: { position: 200 }, counters: { requested: 200, inserted: 150, unchanged: 50 } });
    const row = await database.db.selectFrom('etl_run').select(['status', 'replica']).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'running', replica: thisReplica() });
  });

  it('closes a backfill whose process died without a word, saying whether the same command resumes it', async () => {
    const stdinRun = await startOrResumeRun(database.db, { job: 'backfill', inputKey: 'stdin:1', params: { file: '-' }, replica: 'gone:1' });
    const fileRun = await startOrResumeRun(database.db, { job: 'backfill', inputKey: 'file:c', params: { file: 'ids.txt' }, replica: 'gone:2' });
    const liveRun = await startOrResumeRun(database.db, { job: 'backfill', inputKey: 'file:d', params: {}, replica: 'elsewhere:3' });
    await database.db
      .updateTable('etl_run')
      .set({ heartbeat_at: sql`now() - interval '5 minutes'` })
      .where('id', 'in', [stdinRun!.id, fileRun!.id])
      .execute();

    expect(await closeDeadBackfills(database.db)).toBe(2);
    const rows = await database.db.selectFrom('etl_run').select(['id', 'status', 'error']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: stdinRun!.id, status: 'failed', error: 'its process (gone:1) stopped without finishing; input from stdin cannot be resumed' },
      { id: fileRun!.id, status: 'failed', error: 'its process (gone:2) stopped without finishing; run the same command again to resume' },
      { id: liveRun!.id, status: 'running', error: null },
    ]);
    expect(await startOrResumeRun(database.db, { job: 'backfill', inputKey: 'file:c', params: {}, replica: thisReplica() })).toMatchObject({ id: fileRun!.id, resumed: true });
  });

  it('leaves a run alone while its process still heart-beats, and starts others beside it', async () => {
    await start('elsewhere:1');
    expect(await start('elsewhere:2')).toBeNull();
    expect(await start('elsewhere:2', 'file:b')).toMatchObject({ id: 2, resumed: false });
  });

  it('takes over a run whose process on this host has died, without waiting for the heartbeat to go stale', async () => {
    const deadPid = 2 ** 22 + 12345;
    const host = thisReplica().split(':')[0];
    await start(`${host}:${deadPid}`);
    expect(await start(thisReplica())).toMatchObject({ id: 1, resumed: true });
  });

  it('rolls back the batch of a process whose run another replica took over', async () => {
    const run = await start('paused:1');
    await database.db.updateTable('etl_run').set({ replica: 'other:2' }).execute();
    await expect(recordBatchProgress(database.db, run!, { inserted: 10 }, { position: 10 })).rejects.toThrow(RunTakenOverError);
    const row = await database.db.selectFrom('etl_run').select(['inserted', 'checkpoint']).executeTakeFirstOrThrow();
    expect(row).toEqual({ inserted: 0, checkpoint: null });
  });
});
