import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimManualRun, claimRun, describeHolder, takeOverStaleRun, type ClaimOptions } from '../../src/load/run-claims.js';
import { finishRun, heartbeat } from '../../src/load/runs.js';
import { REFRESH_INPUT_KEY } from '../../jobs/refresh.js';
import { InputError } from '../../src/errors.js';
import { silentLogger } from '../support/pipeline.js';
import { readJobHealth } from '../../src/load/status.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { emptyTables } from './support.js';

const TICK = new Date('2026-01-01T03:00:00Z');
const NEXT_TICK = new Date('2026-01-02T03:00:00Z');

describe.each(backends)('claiming scheduled runs on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(() => emptyTables(database));

  const claim = (replica: string, scheduledFor: Date | null, job: 'sync' | 'refresh' = 'sync', extra: Partial<ClaimOptions> = {}) =>
    claimRun(database.db, { job, inputKey: job, scheduledFor, params: {}, resumeReleased: job === 'sync', replica, ...extra });

  it('gives a fire time to one replica only, and a running job to no second fire time', async () => {
    const first = await claim('a:1', TICK);
    expect(first?.run).toMatchObject({ job: 'sync', scheduledFor: TICK, replica: 'a:1', resumed: false });
    expect(await claim('b:2', TICK)).toBeNull();
    expect(await describeHolder(database.db, 'sync', TICK)).toEqual({ reason: 'fire time already claimed', runId: first!.run.id, replica: 'a:1' });
    expect(await claim('b:2', NEXT_TICK)).toBeNull();
    expect(await describeHolder(database.db, 'sync', NEXT_TICK)).toEqual({ reason: 'job running', runId: first!.run.id, replica: 'a:1' });

    await finishRun(database.db, first!.run, 'finished');
    expect((await claim('b:2', NEXT_TICK))?.run.replica).toBe('b:2');
    const rows = await database.db.selectFrom('etl_run').select(['scheduled_for', 'replica']).orderBy('id').execute();
    expect(rows).toEqual([
      { scheduled_for: TICK, replica: 'a:1' },
      { scheduled_for: NEXT_TICK, replica: 'b:2' },
    ]);
  });

  it('takes over the same row once its heartbeat is stale, and fences the replica that lost it', async () => {
    const { run } = (await claim('a:1', TICK))!;
    await database.db.updateTable('etl_run').set({ inserted: 40, checkpoint: JSON.stringify({ position: 40 }) }).where('id', '=', run.id).execute();
    expect(await takeOverStaleRun(database.db, 'sync', 5, 'b:2')).toBeNull();

    await database.db.updateTable('etl_run').set({ heartbeat_at: sql`now() - interval '10 seconds'` }).where('id', '=', run.id).execute();
    const taken = await takeOverStaleRun(database.db, 'sync', 5, 'b:2');
    expect(taken).toMatchObject({ from: 'a:1', run: { id: run.id, replica: 'b:2', resumed: true, scheduledFor: TICK, checkpoint: { position: 40 } } });
    expect(taken!.run.counters.inserted).toBe(40);
    expect(await takeOverStaleRun(database.db, 'sync', 5, 'c:3')).toBeNull();

    expect(await heartbeat(database.db, run)).toBe(false);
    expect(await finishRun(database.db, run, 'finished')).toBeNull();
    expect(await heartbeat(database.db, taken!.run)).toBe(true);
    expect(await finishRun(database.db, taken!.run, 'finished')).toMatchObject({ inserted: 40 });
  });

  it('continues a released sync with its checkpoint and counters, but starts a refresh afresh', async () => {
    const sync = (await claim('a:1', TICK))!.run;
    await database.db.updateTable('etl_run').set({ requested: 7, checkpoint: JSON.stringify({ position: 7 }) }).where('id', '=', sync.id).execute();
    await finishRun(database.db, sync, 'failed', 'interrupted by shutdown');
    const next = await claim('b:2', NEXT_TICK);
    expect(next).toMatchObject({ resumedFrom: sync.id, run: { resumed: true, checkpoint: { position: 7 }, counters: { requested: 7 } } });

    const refresh = (await claim('a:1', TICK, 'refresh'))!.run;
    await database.db.updateTable('etl_run').set({ requested: 7, checkpoint: JSON.stringify({ position: 7 }) }).where('id', '=', refresh.id).execute();
    await finishRun(database.db, refresh, 'failed', 'interrupted by shutdown');
    const nextRefresh = await claim('b:2', NEXT_TICK, 'refresh');
    expect(nextRefresh).toMatchObject({ resumedFrom: null, run: { resumed: false, checkpoint: null, counters: { requested: 0 } } });
  });

  it('never lets a manual refresh run beside a scheduled one', async () => {
    const scheduled = (await claim('a:1', TICK, 'refresh', { inputKey: REFRESH_INPUT_KEY }))!.run;
    const manually = () =>
      claimManualRun(database.db, { job: 'refresh', inputKey: REFRESH_INPUT_KEY, params: {}, resumeReleased: false }, silentLogger);
    await expect(manually()).rejects.toThrow(InputError);
    await expect(manually()).rejects.toThrow(`a refresh is already running (run ${scheduled.id} on a:1); wait for it to finish`);
    await finishRun(database.db, scheduled, 'finished');
    const manual = await manually();
    expect(manual).toMatchObject({ job: 'refresh', scheduledFor: null, resumed: false });
    expect(await claim('b:2', NEXT_TICK, 'refresh')).toBeNull();
  });

  it('lets a manual run take over a job run whose replica went silent, keeping its row and counters', async () => {
    const silent = (await claim('a:1', TICK))!.run;
    await database.db
      .updateTable('etl_run')
      .set({ requested: 40, heartbeat_at: sql`now() - interval '2 minutes'` })
      .where('id', '=', silent.id)
      .execute();
    const manual = await claimManualRun(database.db, { job: 'sync', inputKey: 'sync', params: {}, resumeReleased: true }, silentLogger);
    expect(manual).toMatchObject({ id: silent.id, resumed: true, counters: { requested: 40 } });
    expect(manual.replica).not.toBe('a:1');
  });

  it('reports who holds each job: a live replica, or a run whose replica went silent', async () => {
    const refresh = (await claim('a:1', TICK, 'refresh'))!.run;
    await finishRun(database.db, refresh, 'finished');
    const sync = (await claim('b:2', TICK))!.run;
    const [refreshHealth, syncHealth] = await readJobHealth(database.db, ['refresh', 'sync'], 5);
    expect(refreshHealth).toMatchObject({ job: 'refresh', lastRun: { id: refresh.id, status: 'succeeded', scheduledFor: TICK.toISOString() }, heldBy: null, stale: null });
    expect(syncHealth).toMatchObject({ job: 'sync', lastRun: { id: sync.id, status: 'running' }, heldBy: { runId: sync.id, replica: 'b:2' }, stale: null });

    await database.db.updateTable('etl_run').set({ heartbeat_at: sql`now() - interval '10 seconds'` }).where('id', '=', sync.id).execute();
    const [, silent] = await readJobHealth(database.db, ['refresh', 'sync'], 5);
    expect(silent).toMatchObject({ heldBy: null, stale: { runId: sync.id, replica: 'b:2' } });
  });
});
