import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/errors.js';
import { markDeleted } from '../../src/load/tombstones.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { makeRecord, upsertRecords } from '../support/records.js';

async function startRun(database: TestDatabase): Promise<number> {
  const run = await database.db
    .insertInto('etl_run')
    .values({ job: 'backfill', replica: 'test:1' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(run.id);
}

async function currentRow(database: TestDatabase, pmid: number) {
  const { rows } = await sql<{
    xmin: string; version: number; status: string; catalogue_id: string; content_hash: string;
    journal: string | null; publish_year: number | null; doi: string | null; pmcid: string | null;
    last_changed_at: Date; checked_us: number; last_run_id: number;
  }>`SELECT xmin::text, version, status, catalogue_id, content_hash, journal, publish_year, doi, pmcid,
       last_changed_at, (extract(epoch FROM last_checked_at) * 1000000)::bigint AS checked_us, last_run_id FROM catalogue_record WHERE pmid = ${pmid}`.execute(database.db);
  return rows[0];
}

async function history(database: TestDatabase, pmid: number) {
  return database.db
    .selectFrom('catalogue_record_version')
    .select(['version', 'op', 'run_id', 'changed_fields', 'catalogue_id', 'content_hash'])
    .where('pmid', '=', pmid)
    .orderBy('version')
    .execute();
}

/** Every row of the tables a load writes, with the row versions (xmin) that prove what was rewritten. */
async function snapshotTables(database: TestDatabase) {
  const tables = ['catalogue_record', 'catalogue_record_version', 'record_facet', 'record_source', 'missing_pmid'];
  const snapshot: Record<string, unknown[]> = {};
  for (const table of tables) {
    const { rows } = await sql`SELECT xmin::text AS row_version, t.* FROM ${sql.table(table)} t ORDER BY 2, 3, 4`.execute(database.db);
    snapshot[table] = rows;
  }
  return snapshot;
}

describe.each(backends)('upsertBatch on $name', (backend) => {
  // One database for the file (opening one costs seconds); every test uses its own PMIDs.
  let database: TestDatabase;
  let runId: number;
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    runId = await startRun(database);
  });

  it('inserts a new PMID as version 1 with its history row, facets, source XML and typed columns', async () => {
    const record = makeRecord(31810187, { pmc: 6947442 });
    const result = await upsertRecords(database, [record], runId);

    expect(result.counts).toEqual({ inserted: 1, updated: 0, unchanged: 0, restored: 0, older: 0, conflict: 0 });
    expect(result.outcomes.get(31810187)).toBe('inserted');
    expect(await currentRow(database, 31810187)).toMatchObject({
      version: 1, status: 'active', catalogue_id: 'pubmed-6947442', content_hash: record.contentHash,
      journal: 'Journal of clinical medicine', publish_year: Number(record.record.publishDate[0]),
      doi: '10.3390/jcm31810187', pmcid: 'PMC6947442', last_run_id: runId,
    });
    expect(await history(database, 31810187)).toEqual([
      { version: 1, op: 'insert', run_id: runId, changed_fields: [], catalogue_id: 'pubmed-6947442', content_hash: record.contentHash },
    ]);
    const stored = await database.db.selectFrom('catalogue_record').select(['record', 'derived']).where('pmid', '=', 31810187).executeTakeFirstOrThrow();
    expect(stored).toEqual({ record: record.record, derived: record.derived });
    const facets = await database.db.selectFrom('record_facet').select(['facet', 'value']).where('pmid', '=', 31810187).execute();
    expect(facets).toHaveLength(record.facets.length);
    expect(facets).toEqual(expect.arrayContaining(record.facets));
    const source = await database.db.selectFrom('record_source').select(['pubmed_xml', 'pmc_article_xml']).where('pmid', '=', 31810187).executeTakeFirstOrThrow();
    expect(source).toEqual({ pubmed_xml: record.sourceXml, pmc_article_xml: null });
  });

  it('writes nothing for an unchanged record but moves its last_checked_at', async () => {
    await upsertRecords(database, [makeRecord(100), makeRecord(200)], runId);
    const before = await snapshotTables(database);
    const rowBefore = await currentRow(database, 100);
    const secondRun = await startRun(database);

    const result = await upsertRecords(database, [makeRecord(100)], secondRun);

    expect(result.counts).toEqual({ inserted: 0, updated: 0, unchanged: 1, restored: 0, older: 0, conflict: 0 });
    const after = await snapshotTables(database);
    // Facets, source XML and history rows are the very same row versions; no history row was added.
    for (const table of ['catalogue_record_version', 'record_facet', 'record_source']) expect(after[table]).toEqual(before[table]);
    const rowAfter = await currentRow(database, 100);
    expect(rowAfter).toMatchObject({ version: 1, last_changed_at: rowBefore?.last_changed_at, last_run_id: runId });
    expect(Number(rowAfter?.checked_us)).toBeGreaterThan(Number(rowBefore?.checked_us));
    // Only the PMIDs of the batch are touched: the other record is the same row version.
    expect((await currentRow(database, 200))?.xmin).toBe((before.catalogue_record?.[1] as { row_version: string }).row_version);
  });

  it('grows neither the catalogue table nor its indexes when a batch is loaded unchanged again and again', async () => {
    const batch = Array.from({ length: 300 }, (_, i) => makeRecord(3000 + i));
    await upsertRecords(database, batch, runId);
    const size = async () => {
      const { rows } = await sql<{ heap: string; indexes: string }>`
        SELECT pg_relation_size('catalogue_record')::text AS heap, pg_indexes_size('catalogue_record')::text AS indexes`.execute(database.db);
      return rows[0];
    };
    const before = await size();

    for (let reload = 0; reload < 3; reload += 1) {
      expect((await upsertRecords(database, batch, await startRun(database))).counts.unchanged).toBe(300);
    }

    expect(await size()).toEqual(before);
  });

  it('writes version 2 naming exactly the record and derived fields that changed', async () => {
    await upsertRecords(database, [makeRecord(300)], runId);
    const changed = makeRecord(300, {
      edit: ({ record, derived }) => {
        record.title_sort = 'a corrected title';
        record.language = ['English', 'German'];
        delete record.author_sort;
        derived.container_issue = '9';
        derived.genre_facet = ['Journal Article', 'Retracted Publication'];
      },
    });
    const secondRun = await startRun(database);

    const result = await upsertRecords(database, [changed], secondRun);

    expect(result.outcomes.get(300)).toBe('updated');
    expect(await history(database, 300)).toEqual([
      expect.objectContaining({ version: 1, op: 'insert' }),
      {
        version: 2, op: 'update', run_id: secondRun, catalogue_id: 'pmid-300', content_hash: changed.contentHash,
        changed_fields: ['author_sort', 'language', 'title_sort', 'derived.container_issue', 'derived.genre_facet'],
      },
    ]);
    expect(await currentRow(database, 300)).toMatchObject({ version: 2, content_hash: changed.contentHash, last_run_id: secondRun });
    const facets = await database.db.selectFrom('record_facet').select(['facet', 'value']).where('pmid', '=', 300).execute();
    expect(facets).toHaveLength(changed.facets.length);
    expect(facets).toEqual(expect.arrayContaining(changed.facets));
  });

  it('replaces the source XML and facets only with a new version', async () => {
    await upsertRecords(database, [makeRecord(310)], runId);
    const revised = makeRecord(310, { revision: 1, edit: ({ derived }) => { derived.topic_facet = ['Humans']; } });
    await upsertRecords(database, [revised], runId);

    const source = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', 310).executeTakeFirstOrThrow();
    expect(source.pubmed_xml).toBe(revised.sourceXml);
    const topics = await database.db.selectFrom('record_facet').select('value').where('pmid', '=', 310).where('facet', '=', 'topic').execute();
    expect(topics).toEqual([{ value: 'Humans' }]);
  });

  it('tracks a new catalogue id as an update of the same PMID, keeping the old id in history', async () => {
    await upsertRecords(database, [makeRecord(400)], runId);
    await upsertRecords(database, [makeRecord(400, { pmc: 7000400 })], runId);

    expect(await currentRow(database, 400)).toMatchObject({ version: 2, catalogue_id: 'pubmed-7000400', pmcid: 'PMC7000400' });
    const versions = await history(database, 400);
    expect(versions.map((version) => version.catalogue_id)).toEqual(['pmid-400', 'pubmed-7000400']);
    expect(versions[1]?.changed_fields).toEqual(['id', 'url']);
  });

  it('keeps the last of duplicate PMIDs in one batch', async () => {
    const first = makeRecord(500);
    const last = makeRecord(500, { revision: 2 });

    const result = await upsertRecords(database, [first, makeRecord(501), last], runId);

    expect(result.counts).toEqual({ inserted: 2, updated: 0, unchanged: 0, restored: 0, older: 0, conflict: 0 });
    expect(await currentRow(database, 500)).toMatchObject({ version: 1, content_hash: last.contentHash });
  });

  it('restores a tombstone that comes back, even with the content it had', async () => {
    const record = makeRecord(600);
    await upsertRecords(database, [record], runId);
    await markDeleted(database.db, [600], runId, 'delete-citation');

    const result = await upsertRecords(database, [record], runId);

    expect(result.outcomes.get(600)).toBe('restored');
    expect(await currentRow(database, 600)).toMatchObject({ version: 3, status: 'active' });
    expect((await history(database, 600)).map((version) => [version.version, version.op, version.changed_fields])).toEqual([
      [1, 'insert', []],
      [2, 'delete', []],
      [3, 'restore', []],
    ]);
  });

  it('moves a catalogue id from one PMID to another in one batch when the holder lets go of it', async () => {
    await upsertRecords(database, [makeRecord(700, { pmc: 9000001 })], runId);
    // NCBI moved the PMC id: PMID 701 claims it (listed first) and PMID 700 drops it.
    const result = await upsertRecords(database, [makeRecord(701, { pmc: 9000001 }), makeRecord(700)], runId);

    expect(result.counts).toMatchObject({ inserted: 1, updated: 1, conflict: 0 });
    expect(await currentRow(database, 701)).toMatchObject({ catalogue_id: 'pubmed-9000001' });
    expect(await currentRow(database, 700)).toMatchObject({ catalogue_id: 'pmid-700', version: 2 });
  });

  it('reports a catalogue id still held by another PMID as a conflict and writes nothing for it', async () => {
    await upsertRecords(database, [makeRecord(800, { pmc: 9000002 })], runId);

    const result = await upsertRecords(database, [makeRecord(801, { pmc: 9000002 }), makeRecord(802)], runId);

    expect(result.outcomes).toEqual(new Map([[801, 'conflict'], [802, 'inserted']]));
    expect(result.conflicts).toEqual(new Map([[801, 800]]));
    expect(await currentRow(database, 801)).toBeUndefined();
  });

  it('joins the transaction it is given, and rolls back with it', async () => {
    const before = await snapshotTables(database);

    await expect(
      database.db.transaction().execute(async (trx) => {
        expect((await upsertRecords({ db: trx, backend: database.backend }, [makeRecord(950)], runId)).counts.inserted).toBe(1);
        throw new Error('the caller gives up the batch');
      }),
    ).rejects.toThrow('the caller gives up the batch');

    expect(await snapshotTables(database)).toEqual(before);
  });

  it('leaves every table as it was when a record in the batch violates a constraint', async () => {
    await upsertRecords(database, [makeRecord(900), makeRecord(901)], runId);
    const before = await snapshotTables(database);
    const changed = makeRecord(900, { revision: 1 });
    const invalid = makeRecord(-5);

    const failure = upsertRecords(database, [changed, makeRecord(902), invalid], runId);

    await expect(failure).rejects.toThrow(DatabaseError);
    await expect(failure).rejects.toMatchObject({ input: [900, 902, -5], message: expect.stringMatching(/check constraint/) });

    expect(await snapshotTables(database)).toEqual(before);
  });
  it('rewrites the source XML, and the MeSH and citation rows read from it, only when the XML changed', async () => {
    await upsertRecords(database, [makeRecord(950)], runId);
    const written = async () =>
      (await sql<{ source: string; mesh: string[]; citation: string }>`
        SELECT (SELECT xmin::text FROM record_source WHERE pmid = 950) AS source,
          (SELECT array_agg(xmin::text || ' ' || descriptor ORDER BY heading) FROM record_mesh WHERE pmid = 950) AS mesh,
          (SELECT xmin::text FROM record_citation WHERE pmid = 950) AS citation`.execute(database.db)).rows[0]!;
    const first = await written();
    expect(first.mesh.length).toBeGreaterThan(0);

    const sameXml = makeRecord(950, { edit: ({ record }) => void (record.title_sort = 'a new sort rule') });
    expect((await upsertRecords(database, [sameXml], runId)).counts.updated).toBe(1);
    expect(await written()).toEqual(first);

    const newTopics = makeRecord(950, { edit: ({ derived }) => void (derived.topic_facet = ['Humans', 'Retrospective Studies']) });
    expect((await upsertRecords(database, [newTopics], runId)).counts.updated).toBe(1);
    const rewritten = await written();
    expect(rewritten.source).not.toBe(first.source);
    expect(rewritten.mesh.map((row) => row.split(' ').slice(1).join(' '))).toEqual(['Humans', 'Retrospective Studies']);
  });
});
