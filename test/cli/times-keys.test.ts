import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSavedSearch } from '../../src/load/saved-searches.js';
import { runCli } from '../support/cli.js';
import { cliBackends, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

/** 09:30 UTC on a summer day: 05:30 in New York, on daylight saving time (UTC-4). */
const INSTANT = '2024-05-01T09:30:00.000Z';
const NEW_YORK = { TZ: 'America/New_York' };
const PMID = 31810187;

function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, entry]) => [key, ...keysOf(entry)]);
}

describe.each(cliBackends)('times and JSON keys of pubcat on $name', (backend) => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await backend.open({ onDisk: true });
    const run = await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow();
    await upsertRecords(database, [makeRecord(PMID)], Number(run.id));
    await sql`UPDATE etl_run SET started_at = ${INSTANT}::timestamptz, finished_at = ${INSTANT}::timestamptz, status = 'succeeded'`.execute(database.db);
    await sql`UPDATE catalogue_record_version SET changed_at = ${INSTANT}::timestamptz`.execute(database.db);
    await sql`UPDATE catalogue_record SET last_changed_at = ${INSTANT}::timestamptz, last_checked_at = ${INSTANT}::timestamptz`.execute(database.db);
    await addSavedSearch(database.db, 'cells', 'stromal cells');
    await sql`UPDATE saved_search SET synced_until = ${INSTANT}::timestamptz, created_at = ${INSTANT}::timestamptz`.execute(database.db);
    env = { ...database.env, ...NEW_YORK, PUBCAT_CRON_SYNC: 'off' };
  });
  afterAll(async () => {
    await database.close();
  });

  it('shows the default refresh cron 0 3 * * * firing next at 03:00 New York time, with its offset, and every time with its zone', async () => {
    const [text, json] = await database.whileDetached(async () => [await runCli(['status'], env), await runCli(['status', '--json'], env)]);
    expect(text.code).toBe(0);
    const nextFire = /^ {2}refresh +0 3 \* \* \* +(\d{4}-\d\d-\d\dT03:00:00-0[45]:00) /m.exec(text.stdout);
    expect(nextFire, text.stdout).not.toBeNull();
    const fire = new Date(nextFire![1]!);
    expect(fire.getTime()).toBeGreaterThan(Date.now());
    expect(fire.getTime() - Date.now()).toBeLessThanOrEqual(25 * 3600_000);
    expect(text.stdout).toMatch(/^ {2}1 +backfill +succeeded +2024-05-01T05:30:00-04:00 /m);

    const report = JSON.parse(json.stdout);
    expect(new Date(report.jobs[0].next_fire).getTime()).toBe(fire.getTime());
    expect(report.runs[0]).toMatchObject({ started_at: INSTANT, finished_at: INSTANT, duration_seconds: 0 });
    expect(report.missing_pmids).toEqual({ count: 0, recent: [] });
    expect(keysOf(report).filter((key) => !/^[a-z][a-z0-9_]*$/.test(key))).toEqual([]);
  });

  it('lists saved searches with their sync time in the local zone, and in JSON with snake_case keys and UTC values', async () => {
    const [text, json] = await database.whileDetached(async () => [
      await runCli(['search', 'list'], env),
      await runCli(['search', 'list', '--json'], env),
    ]);
    expect(text.stdout).toMatch(/^cells +2024-05-01T05:30:00-04:00 +- +stromal cells$/m);
    expect(JSON.parse(json.stdout)).toEqual([{ name: 'cells', query: 'stromal cells', created_at: INSTANT, synced_until: INSTANT, last_run_id: null }]);
  });

  it('prints the record and its history with times in the zone of the process, UTC with Z when TZ is UTC', async () => {
    const [record, history] = await database.whileDetached(async () => [
      await runCli(['show', String(PMID)], env),
      await runCli(['show', String(PMID), '--history'], { ...env, TZ: 'UTC' }),
    ]);
    expect(record.stdout).toContain('changed 2024-05-01T05:30:00-04:00, checked 2024-05-01T05:30:00-04:00');
    expect(history.stdout).toMatch(/^ {2}v1 +insert +2024-05-01T09:30:00Z +run 1 \(backfill\)/m);
  });
});
