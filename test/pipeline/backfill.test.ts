import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';

const SEED_PMID = 31810187;
const seedRecord = JSON.parse(readFileSync(new URL('../fixtures/seed-record/31810187.record.json', import.meta.url), 'utf8'));

describe.each(backends)('backfill end to end on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let context: JobContext;

  beforeEach(async () => {
    database = await backend.open();
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
    context = testJobContext(database, server);
  });
  afterEach(async () => {
    await context.client.close();
    await server.close();
    await database.close();
  });

  it('stores the seed article exactly as the catalogue holds it', async () => {
    stockServer(server);
    const counters = await backfill(context, [SEED_PMID]);
    expect(counters).toMatchObject({ requested: 1, inserted: 1, updated: 0, unchanged: 0, failed: 0, missing: 0 });
    const row = await database.db.selectFrom('catalogue_record').selectAll().where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(row.record).toEqual(seedRecord);
    expect(row).toMatchObject({ catalogue_id: 'pubmed-6947442', pmcid: 'PMC6947442', version: 1, status: 'active' });
    const source = await database.db.selectFrom('record_source').selectAll().where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(source.pmc_article_xml).toContain('<article');
  });

  // The faults are NCBI's, the same on every backend; the embedded database loads a smaller share of them.
  const faultedCount = backend.name === 'pglite' ? 600 : 2_000;
  it(`loads ${faultedCount} PMIDs through 5 % faults, then writes nothing on a second run`, { timeout: 120_000 }, async () => {
    const pmids = stockServer(server, faultedCount);
    server.setFaults({
      serverError: { probability: 0.05 },
      errorInBody: { probability: 0.05 },
      truncated: { probability: 0.05 },
      reset: { probability: 0.05 },
    });
    const first = await backfill(context, pmids);
    expect(first).toMatchObject({ requested: faultedCount, inserted: faultedCount, failed: 0, missing: 0 });
    const versions = await database.db.selectFrom('catalogue_record_version').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(versions.n)).toBe(faultedCount);

    server.setFaults({});
    const second = await backfill(context, pmids, 'second run');
    expect(second).toMatchObject({ requested: faultedCount, inserted: 0, updated: 0, unchanged: faultedCount, failed: 0 });
    const after = await database.db.selectFrom('catalogue_record_version').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(faultedCount);
  });

  it('accounts for every PMID when NCBI silently leaves some out, and loads them on the next run', async () => {
    const pmids = stockServer(server, 400);
    // Both batches and one of their re-asks leave some records out.
    server.setFaults({ dropIds: { count: 3 } });
    const first = await backfill(context, pmids);
    expect(first.inserted + first.missing).toBe(400);
    expect(first).toMatchObject({ requested: 400, failed: 0 });
    expect(first.missing).toBeGreaterThan(0);
    server.setFaults({});
    const second = await backfill(context, pmids, 'second run');
    expect(second).toMatchObject({ inserted: first.missing, unchanged: first.inserted, missing: 0, updated: 0 });
  });

  it('stops at a batch that fails to load: nothing after it is committed and the checkpoint stays before it', async () => {
    const pmids = stockServer(server, 40);
    const failing = pmids[17]!;
    // A write the database fails for a reason that is not the record's data (a refused value would
    // fail that record alone), in the fourth batch of five.
    await sql
      .raw(
        `CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF NEW.pmid = ${failing} THEN RAISE EXCEPTION 'the server refused this write'; END IF; RETURN NEW; END $$`,
      )
      .execute(database.db);
    await sql`CREATE TRIGGER refuse_one BEFORE INSERT ON catalogue_record FOR EACH ROW EXECUTE FUNCTION refuse_one()`.execute(database.db);
    const stopping: JobContext = { ...context, settings: { ...context.settings, batchSize: 5, batchesInFlight: 4 } };
    await expect(backfill(stopping, pmids)).rejects.toThrow(/loading a batch of 5 records failed/);
    const run = await database.db.selectFrom('etl_run').select(['checkpoint', 'requested', 'inserted']).executeTakeFirstOrThrow();
    expect(run).toEqual({ checkpoint: { position: 15 }, requested: 15, inserted: 15 });
    const loaded = await database.db.selectFrom('catalogue_record').select('pmid').orderBy('pmid').execute();
    expect(loaded.map((row) => row.pmid)).toEqual(pmids.slice(0, 15));
  });

  it('gives a changed record exactly one new version naming the fields that changed', async () => {
    const [pmid] = stockServer(server, 1) as [number];
    await backfill(context, [pmid]);
    const original = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', pmid).executeTakeFirstOrThrow();
    const retitled = original.pubmed_xml.replace(/<ArticleTitle>[^<]*/, '<ArticleTitle>A corrected title');
    expect(retitled).not.toBe(original.pubmed_xml);
    server.addPubmedRecords([{ pmid, xml: retitled }]);

    const counters = await backfill(context, [pmid], 'after correction');
    expect(counters).toMatchObject({ updated: 1, unchanged: 0, inserted: 0 });
    const history = await database.db
      .selectFrom('catalogue_record_version')
      .select(['version', 'op', 'changed_fields'])
      .where('pmid', '=', pmid)
      .orderBy('version')
      .execute();
    expect(history.map((version) => [version.version, version.op])).toEqual([
      [1, 'insert'],
      [2, 'update'],
    ]);
    expect(history[1]!.changed_fields).toEqual(['title']);
    await backfill(context, [pmid], 'once more');
    const count = await database.db.selectFrom('catalogue_record_version').select('version').where('pmid', '=', pmid).execute();
    expect(count).toHaveLength(2);
  });

  it('tombstones a DeleteCitation and a record missing on two runs in a row, and counts unknown PMIDs as missing', async () => {
    const [kept, deletedLater, vanishing] = stockServer(server, 3) as [number, number, number];
    const first = await backfill(context, [kept, deletedLater, vanishing, 80_000_001]);
    expect(first).toMatchObject({ requested: 4, inserted: 3, deleted: 0, missing: 1 });

    // A second NCBI that deleted one citation and stopped returning another.
    const later = await startFakeEutils({ latency: { fixedMs: 2 } });
    // Few PMIDs: one missing is a third of the run, which the outage guard would hold; this NCBI is healthy.
    const laterContext = testJobContext(database, later);
    laterContext.settings = { ...laterContext.settings, maxMissingShare: 1 };
    try {
      const sources = await database.db.selectFrom('record_source').select(['pmid', 'pubmed_xml']).where('pmid', '=', kept).execute();
      later.addPubmedRecords(sources.map((row) => ({ pmid: row.pmid, xml: row.pubmed_xml })));
      later.addDeletedPmids([deletedLater]);
      const second = await backfill(laterContext, [kept, deletedLater, vanishing], 'second');
      expect(second).toMatchObject({ unchanged: 1, deleted: 1, missing: 1 });
      const third = await backfill(laterContext, [kept, deletedLater, vanishing], 'third');
      // The DeleteCitation again, and the second miss in a row, which tombstones the record.
      expect(third).toMatchObject({ unchanged: 1, deleted: 2, missing: 0 });
    } finally {
      await laterContext.client.close();
      await later.close();
    }
    const rows = await database.db.selectFrom('catalogue_record').select(['pmid', 'status', 'version']).orderBy('pmid').execute();
    expect(rows).toEqual([
      { pmid: kept, status: 'active', version: 1 },
      { pmid: deletedLater, status: 'deleted', version: 2 },
      { pmid: vanishing, status: 'deleted', version: 2 },
    ]);
    const missing = await database.db.selectFrom('missing_pmid').select(['pmid', 'miss_count']).orderBy('pmid').execute();
    expect(missing).toEqual([
      { pmid: vanishing, miss_count: 2 },
      { pmid: 80_000_001, miss_count: 1 },
    ]);
  });
});
