/**
 * Several loaders at once (PostgreSQL only: PGlite is one connection). Each real change must
 * become exactly one version, whatever the interleaving, and no unique violation may escape.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/load/schema.js';
import { markDeleted } from '../../src/load/tombstones.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function startRun(db: Kysely<Database>): Promise<number> {
  const run = await db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow();
  return Number(run.id);
}

/** Resolves once some session waits for a lock: the loader under test is blocked. */
async function untilALoaderWaits(db: Kysely<Database>): Promise<void> {
  for (;;) {
    const { rows } = await sql<{ waiting: number }>`
      SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted`.execute(db);
    if ((rows[0]?.waiting ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.runIf(postgresBackend !== undefined)('concurrent loaders on postgres', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await postgresBackend!.open();
  });
  afterAll(async () => {
    await database.close();
  });

  it('end with one version per real change when their batches overlap', async () => {
    const runId = await startRun(database.db);
    await upsertRecords(database, range(1, 200).map((pmid) => makeRecord(pmid)), runId);

    // Both loaders bring the same revision 1 of PMIDs 101–300: a real change of 101–200, new
    // records 201–300. Each loader also has PMIDs of its own (1–100 unchanged, 301–400 new).
    const loaderA = range(1, 300).map((pmid) => makeRecord(pmid, { revision: pmid > 100 ? 1 : 0 }));
    const loaderB = range(101, 400).map((pmid) => makeRecord(pmid, { revision: pmid <= 300 ? 1 : 0 }));
    const [a, b] = await Promise.all([upsertRecords(database, loaderA, runId), upsertRecords(database, loaderB, runId)]);

    expect(a.counts.updated + b.counts.updated).toBe(100);
    expect(a.counts.inserted + b.counts.inserted).toBe(200);
    const { rows } = await sql<{ versions: number; changes: number }>`
      SELECT count(*)::int AS versions, count(*) FILTER (WHERE op = 'update')::int AS changes
      FROM catalogue_record_version`.execute(database.db);
    expect(rows[0]).toEqual({ versions: 400 + 100, changes: 100 });
  });

  it('re-reads a record that another loader changed while it waited, and records its change against that version', async () => {
    const runId = await startRun(database.db);
    await upsertRecords(database, [makeRecord(1000)], runId);

    // Another session tombstones the record and holds its lock; the loader's snapshot still
    // sees version 1 when it reaches the row.
    const other = await inOpenTransaction(database.db, (trx) => markDeleted(trx, [1000], runId, 'missing').then(() => undefined));
    const loading = upsertRecords(database, [makeRecord(1000, { revision: 1 })], runId);
    await untilALoaderWaits(database.db);
    await other.commit();
    const result = await loading;

    expect(result.outcomes.get(1000)).toBe('restored');
    const versions = await database.db.selectFrom('catalogue_record_version').select(['version', 'op', 'changed_fields'])
      .where('pmid', '=', 1000).orderBy('version').execute();
    expect(versions).toEqual([
      { version: 1, op: 'insert', changed_fields: [] },
      { version: 2, op: 'delete', changed_fields: [] },
      { version: 3, op: 'restore', changed_fields: ['description'] },
    ]);
  });

  it('turns its insert into an update when another loader inserted the same new PMID meanwhile', async () => {
    const runId = await startRun(database.db);
    const other = await inOpenTransaction(database.db, (trx) => insertUncommitted(trx, 2000, runId));
    const loading = upsertRecords(database, [makeRecord(2000, { revision: 1 })], runId);
    await untilALoaderWaits(database.db);
    await other.commit();

    expect((await loading).outcomes.get(2000)).toBe('updated');
    const versions = await database.db.selectFrom('catalogue_record_version').select(['version', 'op'])
      .where('pmid', '=', 2000).orderBy('version').execute();
    expect(versions).toEqual([{ version: 1, op: 'insert' }, { version: 2, op: 'update' }]);
  });
});

/** What a first loader writes for a new PMID, left uncommitted in `trx`. */
async function insertUncommitted(trx: Kysely<Database>, pmid: number, runId: number): Promise<void> {
  const record = makeRecord(pmid);
  await trx.insertInto('catalogue_record').values({
    pmid, catalogue_id: record.catalogueId, content_hash: record.contentHash,
    record: JSON.stringify(record.record), derived: JSON.stringify(record.derived), title: record.record.title,
    journal: null, publish_year: null, doi: null, pmcid: null, last_run_id: runId,
  }).execute();
  await trx.insertInto('catalogue_record_version').values({
    pmid, version: 1, op: 'insert', run_id: runId, catalogue_id: record.catalogueId,
    content_hash: record.contentHash, record: JSON.stringify(record.record),
  }).execute();
}

/** Runs `work` in a transaction of another session and keeps it open until `commit` is called. */
async function inOpenTransaction(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<void>,
): Promise<{ commit: () => Promise<void> }> {
  let workDone: () => void = () => undefined;
  let release: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (workDone = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const transaction = db.transaction().execute(async (trx) => {
    await work(trx);
    workDone();
    await released;
  });
  await Promise.race([done, transaction]);
  return {
    commit: async () => {
      release();
      await transaction;
    },
  };
}
