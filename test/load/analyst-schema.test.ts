import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreRunTombstones } from '../../src/load/restore.js';
import { markDeleted } from '../../src/load/tombstones.js';
import { transformPubmedRecord } from '../../src/transform/index.js';
import type { TransformedRecord } from '../../src/transform/types.js';
import { backends, postgresBackend, type TestDatabase } from '../support/databases.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';
import { makeRecord, upsertRecords } from '../support/records.js';

/** PMID 32887691 (BMJ): MeSH with starred qualifiers, pages m3379, full date 2020-09-04. */
const BMJ = 32887691;

async function startRun(database: TestDatabase): Promise<number> {
  const run = await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow();
  return Number(run.id);
}

describe.each(backends)('the analysts\' schema on $name', (backend) => {
  let database: TestDatabase;
  let records: TransformedRecord[];
  beforeAll(async () => {
    database = await backend.open();
    records = loadPubmedFixtureRecords().map((input) => transformPubmedRecord(input));
    await upsertRecords(database, records, await startRun(database));
  });
  afterAll(async () => {
    await database.close();
  });

  it('types the citation fields of the stored record as columns', async () => {
    const { rows } = await sql<Record<string, unknown>>`
      SELECT r.issn, r.volume, r.issue, r.start_page, to_char(r.publish_date, 'YYYY-MM-DD') AS publish_date,
        r.publication_types, c.journal_abbreviation, c.pages
      FROM catalogue_record r JOIN record_citation c USING (pmid) WHERE r.pmid = ${BMJ}`.execute(database.db);
    expect(rows).toEqual([
      {
        issn: ['1756-1833', '0959-8138'],
        volume: '370',
        issue: null,
        start_page: 'm3379',
        publish_date: '2020-09-04',
        publication_types: ['Journal Article', 'Practice Guideline'],
        journal_abbreviation: 'BMJ',
        pages: 'm3379',
      },
    ]);
  });

  it('lists each MeSH heading with its UI, qualifiers and major-topic flags', async () => {
    const { rows } = await sql<Record<string, unknown>>`
      SELECT heading, descriptor, descriptor_ui, qualifier, qualifier_ui, major_topic FROM record_mesh
      WHERE pmid = ${BMJ} AND heading <= 2 ORDER BY heading, qualifier NULLS FIRST`.execute(database.db);
    expect(rows).toEqual([
      { heading: 1, descriptor: 'Adrenal Cortex Hormones', descriptor_ui: 'D000305', qualifier: null, qualifier_ui: null, major_topic: true },
      { heading: 1, descriptor: 'Adrenal Cortex Hormones', descriptor_ui: 'D000305', qualifier: 'therapeutic use', qualifier_ui: 'Q000627', major_topic: true },
      { heading: 2, descriptor: 'Betacoronavirus', descriptor_ui: 'D000073640', qualifier: null, qualifier_ui: null, major_topic: true },
    ]);
    const { rows: counts } = await sql<{ headings: number }>`
      SELECT count(*)::int AS headings FROM record_mesh WHERE pmid = ${BMJ} AND qualifier IS NULL`.execute(database.db);
    expect(counts[0]?.headings).toBe(10);
  });

  it('finds records by words of their title or abstract, title hits ranked first', async () => {
    const { rows } = await sql<{ pmid: string }>`
      SELECT pmid::text FROM v_record
      WHERE search_text @@ websearch_to_tsquery('english', 'mesenchymal stromal')
      ORDER BY ts_rank(search_text, websearch_to_tsquery('english', 'mesenchymal stromal')) DESC, pmid`.execute(database.db);
    const matching = records.filter((record) =>
      /mesenchymal/i.test(`${record.record.title} ${record.record.description}`) && /stromal/i.test(`${record.record.title} ${record.record.description}`),
    );
    expect(matching.length).toBeGreaterThan(0);
    expect(rows.map((row) => Number(row.pmid)).sort()).toEqual(matching.map((record) => record.pmid).sort());
    expect(Number(rows[0]?.pmid)).toBe(31810187);
  });

  it('answers a facet lookup, a MeSH lookup and a full-text search from their indexes', async () => {
    const plans = await database.db.transaction().execute(async (trx) => {
      // The fixtures are a handful of rows, which a table scan reads faster: make the planner show its index.
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const plan = async (query: string) =>
        (await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${sql.raw(query)}`.execute(trx)).rows.map((row) => row['QUERY PLAN']).join('\n');
      return [
        await plan(`SELECT pmid FROM record_facet WHERE facet = 'topic' AND value = 'Humans'`),
        await plan(`SELECT pmid FROM record_mesh WHERE descriptor = 'Humans'`),
        await plan(`SELECT pmid FROM v_record WHERE search_text @@ websearch_to_tsquery('english', 'stromal')`),
      ];
    });
    expect(plans[0]).toMatch(/Index Only Scan using record_facet_lookup/);
    expect(plans[1]).toMatch(/Index Scan using record_mesh_descriptor |Bitmap Index Scan on record_mesh_descriptor /);
    expect(plans[2]).toMatch(/Bitmap Index Scan on catalogue_record_search_text/);
  });

  it('keeps v_facet_counts equal to a count of the active records\' facets through updates, tombstones and restores', async () => {
    const recount = async () =>
      (
        await sql<{ facet: string; value: string; records: string }>`
          SELECT f.facet, f.value, count(*)::text AS records FROM record_facet f
          JOIN catalogue_record r ON r.pmid = f.pmid AND r.status = 'active'
          GROUP BY 1, 2 ORDER BY 1, 2`.execute(database.db)
      ).rows;
    const kept = async () =>
      (await sql<{ facet: string; value: string; records: string }>`SELECT facet, value, records::text FROM v_facet_counts ORDER BY 1, 2`.execute(database.db))
        .rows;
    const pmids = [9_100_001, 9_100_002, 9_100_003];
    const loadRun = await startRun(database);
    await upsertRecords(database, pmids.map((pmid) => makeRecord(pmid)), loadRun);
    expect(await kept()).toEqual(await recount());

    const retitled = (pmid: number, revision: number) =>
      makeRecord(pmid, { revision, edit: ({ derived }) => (derived.topic_facet = [`Topic of revision ${revision}`]) });
    await upsertRecords(database, [retitled(9_100_001, 1)], await startRun(database));
    expect(await kept()).toEqual(await recount());

    const tombstoneRun = await startRun(database);
    await markDeleted(database.db, [9_100_002, 9_100_003], tombstoneRun, 'missing');
    expect(await kept()).toEqual(await recount());
    await database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', tombstoneRun).execute();
    await restoreRunTombstones(database.db, tombstoneRun);
    expect(await kept()).toEqual(await recount());

    await markDeleted(database.db, [9_100_003], await startRun(database), 'delete-citation');
    await upsertRecords(database, [retitled(9_100_003, 2)], await startRun(database));
    expect(await kept()).toEqual(await recount());
    expect((await kept()).find((row) => row.value === 'Topic of revision 2')?.records).toBe('1');
  });

  it('lists each changed record field once, with its value before and after, in changed_fields and v_record_changes', async () => {
    const pmid = 9_200_001;
    const runId = await startRun(database);
    await upsertRecords(database, [makeRecord(pmid)], runId);
    const retitled = makeRecord(pmid, {
      edit: ({ record }) => {
        record.title = 'A corrected title';
        record.title_short = record.title_full = record.title_fullStr = record.title_full_unstemmed = record.title;
        record.title_sort = 'a corrected title';
        record.spelling = `${record.spelling} corrected`;
        record.spellingShingle = [...(record.author ?? []), record.title];
        record.work_keys_str_mv = ['AT corrected'];
      },
    });
    await upsertRecords(database, [retitled], runId);
    const version = await database.db.selectFrom('catalogue_record_version').select('changed_fields').where('pmid', '=', pmid).where('version', '=', 2).executeTakeFirstOrThrow();
    expect(version.changed_fields).toEqual(['title']);
    const { rows } = await sql<Record<string, unknown>>`
      SELECT version, op, field, old_value, new_value FROM v_record_changes WHERE pmid = ${pmid}`.execute(database.db);
    expect(rows).toEqual([{ version: 2, op: 'update', field: 'title', old_value: makeRecord(pmid).record.title, new_value: 'A corrected title' }]);
  });

  it('names a copy field that changed while its source did not', async () => {
    const { rows } = await sql<{ fields: string[] }>`
      SELECT pubcat_record_fields(ARRAY['author_sort', 'spelling', 'title_sort', 'url', 'derived.issn']) AS fields`.execute(database.db);
    expect(rows[0]?.fields).toEqual(['author_sort', 'title_sort', 'url', 'derived.issn']);
  });

  it('rewrites the MeSH rows when a record changes, and keeps them for a tombstone', async () => {
    const [bmj] = records.filter((record) => record.pmid === BMJ);
    const edited = transformPubmedRecord({
      pmid: BMJ,
      kind: 'article',
      xml: bmj!.sourceXml.replace(/<MeshHeading><DescriptorName UI="D006801"[^]*?<\/MeshHeading>/, ''),
    });
    const runId = await startRun(database);
    await upsertRecords(database, [edited], runId);
    const headings = async () =>
      (await sql<{ descriptor: string }>`SELECT descriptor FROM record_mesh WHERE pmid = ${BMJ} AND qualifier IS NULL`.execute(database.db)).rows.map(
        (row) => row.descriptor,
      );
    expect(await headings()).toHaveLength(9);
    expect(await headings()).not.toContain('Humans');
    await markDeleted(database.db, [BMJ], runId, 'delete-citation');
    expect(await headings()).toHaveLength(9);
  });
});

describe.skipIf(postgresBackend === undefined)('pubcat_reader on the analysts\' schema', () => {
  let database: TestDatabase;
  let reader: pg.Client;
  beforeAll(async () => {
    database = await postgresBackend!.open();
    const url = new URL(database.env.DATABASE_URL!);
    url.username = 'pubcat_reader';
    reader = new pg.Client({ connectionString: url.toString() });
    await reader.connect();
  });
  afterAll(async () => {
    await reader?.end();
    await database?.close();
  });

  it('reads the facet, MeSH and citation tables, the typed columns, facet counts and field changes, and not the source XML', async () => {
    for (const query of [
      'SELECT facet, value FROM record_facet LIMIT 1',
      'SELECT descriptor, qualifier, major_topic FROM record_mesh LIMIT 1',
      'SELECT journal_abbreviation, pages FROM record_citation LIMIT 1',
      'SELECT issn, volume, issue, pages, publish_date, journal_abbreviation, publication_types, search_text FROM v_record LIMIT 1',
      'SELECT facet, value, records FROM v_facet_counts LIMIT 1',
      'SELECT field, old_value, new_value FROM v_record_changes LIMIT 1',
    ]) {
      await expect(reader.query(query), query).resolves.toBeDefined();
    }
    await expect(reader.query('SELECT pubmed_xml FROM record_source LIMIT 1')).rejects.toThrow(/permission denied/);
  });
});
