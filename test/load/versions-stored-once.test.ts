import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/load/schema.js';
import { migrate, readMigrations } from '../../src/load/migrate.js';
import { markDeleted } from '../../src/load/tombstones.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

const STORED_ONCE = 27;

const historyView = async (db: Kysely<Database>, pmid: number) =>
  (await sql<{ version: number; op: string; changed_fields: string[]; catalogue_id: string; run_id: number | null; job: string | null; record: unknown; reason: string | null }>`
    SELECT version, op, changed_fields, catalogue_id, run_id, job, record, reason FROM v_record_history
    WHERE pmid = ${pmid} ORDER BY version`.execute(db)).rows;

/** What `pubcat show --history` reads. */
const shownHistory = (db: Kysely<Database>, pmid: number) =>
  db.selectFrom('catalogue_record_version as v').leftJoin('etl_run as r', 'r.id', 'v.run_id')
    .select(['v.version', 'v.op', 'v.changed_at', 'v.run_id', 'r.job', 'v.changed_fields', 'v.catalogue_id'])
    .where('v.pmid', '=', pmid).orderBy('v.version').execute();

const storedRecords = async (db: Kysely<Database>, pmid: number) =>
  (await db.selectFrom('catalogue_record_version').select(['version', 'record']).where('pmid', '=', pmid).orderBy('version').execute())
    .map((row) => [row.version, row.record === null ? null : 'kept']);

describe.each(backends)('record versions stored once on $name', (backend) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });
  const startRun = async (db: Kysely<Database>) =>
    Number((await db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow()).id);

  it('keeps superseded records in history only, and v_record_history and the field changes show every version', async () => {
    database = await backend.open();
    const { db } = database;
    const first = makeRecord(10);
    const second = makeRecord(10, { revision: 1 });
    await upsertRecords(database, [first], await startRun(db));
    expect(await storedRecords(db, 10)).toEqual([[1, null]]);

    await upsertRecords(database, [second], await startRun(db));
    await markDeleted(db, [10], await startRun(db), 'missing');
    await upsertRecords(database, [second], await startRun(db));

    expect(await storedRecords(db, 10)).toEqual([[1, 'kept'], [2, 'kept'], [3, 'kept'], [4, null]]);
    const history = await historyView(db, 10);
    expect(history.map((version) => [version.op, version.record])).toEqual([
      ['insert', first.record], ['update', second.record], ['delete', second.record], ['restore', second.record],
    ]);
    const changes = (await sql<{ version: number; field: string; old_value: unknown; new_value: unknown }>`
      SELECT version, field, old_value, new_value FROM v_record_changes WHERE pmid = 10 ORDER BY version, field`.execute(db)).rows;
    expect(changes.find((change) => change.field === 'description')).toEqual({
      version: 2, field: 'description', old_value: first.record.description, new_value: second.record.description,
    });
  });

  it('moves the records of a catalogue loaded before into the new layout, showing the same history', async () => {
    database = await backend.open({ migrated: false });
    const { db } = database;
    const all = await readMigrations();
    await migrate(database, all.filter((migration) => migration.version < STORED_ONCE));
    // Versions as the load wrote them before: every version's record in its history row.
    const runId = await startRun(db);
    const first = makeRecord(20);
    const second = makeRecord(20, { revision: 1 });
    const json = (value: unknown) => JSON.stringify(value);
    await sql`INSERT INTO catalogue_record (pmid, catalogue_id, version, status, content_hash, record, derived, title)
      VALUES (20, ${second.catalogueId}, 3, 'deleted', ${second.contentHash}, ${json(second.record)}::jsonb, ${json(second.derived)}::jsonb, ${second.record.title}),
        (21, ${makeRecord(21).catalogueId}, 1, 'active', ${makeRecord(21).contentHash}, ${json(makeRecord(21).record)}::jsonb, '{}'::jsonb, 'x')`.execute(db);
    await sql`INSERT INTO catalogue_record_version (pmid, version, op, run_id, changed_fields, catalogue_id, content_hash, record, reason)
      VALUES (20, 1, 'insert', ${runId}, '{}', ${first.catalogueId}, ${first.contentHash}, ${json(first.record)}::jsonb, NULL),
        (20, 2, 'update', ${runId}, '{description}', ${second.catalogueId}, ${second.contentHash}, ${json(second.record)}::jsonb, NULL),
        (20, 3, 'delete', ${runId}, '{}', ${second.catalogueId}, ${second.contentHash}, ${json(second.record)}::jsonb, 'missing'),
        (21, 1, 'insert', ${runId}, '{}', ${makeRecord(21).catalogueId}, ${makeRecord(21).contentHash}, ${json(makeRecord(21).record)}::jsonb, NULL)`.execute(db);
    const before = { 20: [await historyView(db, 20), await shownHistory(db, 20)], 21: [await historyView(db, 21), await shownHistory(db, 21)] };

    await migrate(database, all);

    expect({ 20: [await historyView(db, 20), await shownHistory(db, 20)], 21: [await historyView(db, 21), await shownHistory(db, 21)] }).toEqual(before);
    expect(await storedRecords(db, 20)).toEqual([[1, 'kept'], [2, 'kept'], [3, null]]);
    expect(await storedRecords(db, 21)).toEqual([[1, null]]);
    // The next change after the upgrade keeps the record it supersedes.
    await upsertRecords(database, [makeRecord(21, { revision: 1 })], await startRun(db));
    expect((await historyView(db, 21)).map((version) => version.record)).toEqual([makeRecord(21).record, makeRecord(21, { revision: 1 }).record]);
  });
});
