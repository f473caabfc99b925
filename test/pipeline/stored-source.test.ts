/** Pages of stored records for `pubcat retransform`, and what a rebuild that changes nothing writes. */
import { sql, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOrResumeRun } from '../../src/load/runs.js';
import { markDeleted } from '../../src/load/tombstones.js';
import { loadBatches } from '../../src/pipeline.js';
import { storedBatches } from '../../src/pipeline/stored-source.js';
import { createBatchTransformer } from '../../src/pipeline/transform-pool.js';
import { TRANSFORM_VERSION } from '../../src/transform/index.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { silentLogger } from '../support/pipeline.js';
import { upsertBatch } from '../../src/load/upsert.js';
import { transformBatch } from '../../src/pipeline/transform-batch.js';
import { loadPubmedFixtureRecords, replicateRecords } from '../support/ncbi-fixtures.js';
import { builtByOlderRule, builtByOlderVersion, seedStoredCatalogue } from '../support/stored-catalogue.js';

describe.each(backends)('stored record pages on $name', (backend) => {
  let database: TestDatabase;
  let pmids: number[];

  beforeEach(async () => {
    database = await backend.open();
    pmids = await seedStoredCatalogue(database, 30);
  });
  afterEach(async () => {
    await database.close();
  });

  const pagesOf = async (batchSize: number) => {
    const pages = [];
    for await (const batch of storedBatches(database, { selection: { all: true }, batchSize, checkpoint: null })) pages.push(await batch.parts);
    return pages;
  };

  it('reads past a whole page of tombstones and yields each active record once, in PMID order', async () => {
    const run = await startOrResumeRun(database.db, { job: 'backfill', inputKey: 'tombstones', params: {} });
    await markDeleted(database.db, pmids.slice(5, 20), run!.id, 'delete-citation');

    const pages = await pagesOf(5);

    expect(pages.map((page) => page.records.map((record) => record.pmid))).toEqual([pmids.slice(0, 5), pmids.slice(20, 25), pmids.slice(25, 30)]);
  });

  it('brings the content hash of the records the current transform built, and of no other', async () => {
    await builtByOlderVersion(database, pmids.slice(0, 3), TRANSFORM_VERSION - 1);
    const { rows } = await sql<{ pmid: number | string; content_hash: string }>`SELECT pmid, content_hash FROM catalogue_record ORDER BY pmid`.execute(database.db);

    const [page] = await pagesOf(30);

    expect([...page!.builtAs!].sort(([a], [b]) => a - b)).toEqual(rows.slice(3).map((row) => [Number(row.pmid), row.content_hash]));
  });

  it('rebuilds a catalogue the transform leaves as it was with no statement but the page reads and the run\'s progress', async () => {
    const statements: string[] = [];
    const logged: KyselyPlugin = {
      transformQuery: ({ node }) => {
        statements.push(described(node));
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const watched = { ...database, db: database.db.withPlugin(logged) };
    const run = await startOrResumeRun(database.db, { job: 'retransform', inputKey: 'unchanged', params: {} });
    const transformer = createBatchTransformer(0);

    const counters = await loadBatches(run!, storedBatches(watched, { selection: { all: true }, batchSize: 10, checkpoint: null }), { database: watched, transformer, logger: silentLogger }, {
      batchSize: 10,
      batchesInFlight: 2,
      checked: false,
    });
    await transformer.close();

    expect({ unchanged: counters.unchanged, updated: counters.updated, requested: counters.requested }).toEqual({ unchanged: 30, updated: 0, requested: 30 });
    expect(new Set(statements)).toEqual(new Set(['read a page of stored records', 'UpdateQueryNode etl_run']));
  });
});

describe.each(backends)('a rebuild racing another loader on $name', (backend) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await backend.open();
  });
  afterEach(async () => {
    await database.close();
  });

  it('leaves a record another loader changed after its XML was read as that loader wrote it, and counts it older', async () => {
    const pmids = await seedStoredCatalogue(database, 6);
    await builtByOlderRule(database, pmids);
    const [raced] = pmids;
    const revised = replicateRecords(loadPubmedFixtureRecords(), [raced!]).map((copy) => ({
      ...copy,
      kind: 'article' as const,
      xml: copy.xml.replace(/<ArticleTitle>[\s\S]*?<\/ArticleTitle>/, '<ArticleTitle>Title as NCBI revised it.</ArticleTitle>'),
    }));
    // A refresh of one record commits between the rebuild's page read and its load.
    async function* racedSource() {
      for await (const batch of storedBatches(database, { selection: { all: true }, batchSize: 10, checkpoint: null })) {
        const parts = await batch.parts;
        const refresh = await startOrResumeRun(database.db, { job: 'refresh', inputKey: 'racing', params: {} });
        await upsertBatch(database, transformBatch({ records: revised, pmc: [] }).rows, refresh!.id);
        yield { ...batch, parts: Promise.resolve(parts) };
      }
    }
    const run = await startOrResumeRun(database.db, { job: 'retransform', inputKey: 'raced', params: {} });
    const transformer = createBatchTransformer(0);

    const counters = await loadBatches(run!, racedSource(), { database, transformer, logger: silentLogger }, { batchSize: 10, batchesInFlight: 2, checked: false });
    await transformer.close();

    expect({ updated: counters.updated, older: counters.older }).toEqual({ updated: 5, older: 1 });
    const { rows } = await sql<{ title: string; version: number; xml_title: boolean }>`
      SELECT c.record ->> 'title' AS title, c.version, s.pubmed_xml LIKE '%Title as NCBI revised it.%' AS xml_title
      FROM catalogue_record c JOIN record_source s USING (pmid) WHERE c.pmid = ${raced}`.execute(database.db);
    expect(rows[0]).toEqual({ title: expect.stringContaining('Title as NCBI revised it'), version: 2, xml_title: true });
  });
});

/** A statement as the test tells them apart: the page read, or the kind of query and its table. */
function described(node: RootOperationNode): string {
  if (node.kind === 'RawNode') return node.sqlFragments.join('?').trimStart().startsWith('SELECT c.pmid, c.content_hash') ? 'read a page of stored records' : node.sqlFragments.join('?');
  const table = 'table' in node && node.table !== undefined && 'table' in node.table ? node.table.table.identifier.name : '';
  return `${node.kind} ${table}`;
}
