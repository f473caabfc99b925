import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { addSavedSearch, listSavedSearches, removeSavedSearch } from '../../src/load/saved-searches.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { stockServer, testJobContext } from '../support/pipeline.js';
import { day, emptyTables, syncOnce } from './support.js';

const LONG_AGO = '2020/01/01';
const DAY_MS = 86_400_000;

describe.each(backends)('saved searches and sync on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let context: JobContext;

  // One database for the file (opening one costs seconds); each test starts from empty tables.
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await emptyTables(database);
    server = await startFakeEutils({ latency: { fixedMs: 1 } });
    context = testJobContext(database, server, 2);
  });
  afterEach(async () => {
    await context.client.close();
    await server.close();
  });

  const esearches = () => server.requests.filter((request) => request.utility === 'esearch');
  const versions = async (pmid: number) =>
    (await database.db.selectFrom('catalogue_record_version').select('op').where('pmid', '=', pmid).orderBy('version').execute()).map((row) => row.op);

  it('refuses bad names, duplicates and unknown names with messages that name them', async () => {
    await addSavedSearch(database.db, 'ms-cells', 'mesenchymal[ti]');
    await expect(addSavedSearch(database.db, 'ms-cells', 'other')).rejects.toThrow('a saved search named ms-cells already exists (query: mesenchymal[ti])');
    await expect(addSavedSearch(database.db, '-dash-first', 'x')).rejects.toThrow('"-dash-first" is not a saved search name');
    await expect(addSavedSearch(database.db, 'empty', '  ')).rejects.toThrow('saved search empty: the query is empty');
    await expect(addSavedSearch(database.db, 'n'.repeat(3000), 'x')).rejects.toThrow(
      `"${'n'.repeat(40)}… (3000 characters)" is not a saved search name: use up to 64 letters`,
    );
    await expect(addSavedSearch(database.db, 'huge', 'q '.repeat(2500))).rejects.toThrow('saved search huge: the query has 4999 characters, more than the 4000 allowed');
    await expect(removeSavedSearch(database.db, 'nope')).rejects.toThrow('no saved search named nope (known: ms-cells)');
    await removeSavedSearch(database.db, 'ms-cells');
    expect(await listSavedSearches(database.db)).toEqual([]);
  });

  it('stores a query typed over several lines as PubMed reads it, on one line', async () => {
    const search = await addSavedSearch(database.db, 'multi', 'stem cells[ti]\n  AND\tmouse[mh]\r\n');
    expect(search.query).toBe('stem cells[ti] AND mouse[mh]');
  });

  it('loads every hit first, then only what was modified since, from a day before the window end', async () => {
    const [old, corrected, boundary, untouched] = stockServer(server, 4) as [number, number, number, number];
    server.addSearch('cells', [old, corrected, untouched].map((pmid) => ({ pmid, edat: LONG_AGO, mdat: LONG_AGO })));
    await addSavedSearch(database.db, 'cells', 'cells');

    const before = new Date();
    const first = await syncOnce(context);
    expect(first).toMatchObject({ requested: 3, inserted: 3, failed: 0 });
    expect(esearches()[0]!.params).not.toHaveProperty('mindate');
    const [afterFirst] = await listSavedSearches(database.db);
    expect(afterFirst!.syncedUntil!.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    expect(afterFirst!.lastRunId).toBe(first.runId);

    // NCBI corrects one record today, and indexes another the day before the window end.
    const source = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', corrected).executeTakeFirstOrThrow();
    server.addPubmedRecords([{ pmid: corrected, xml: source.pubmed_xml.replace(/<ArticleTitle>[^<]*/, '<ArticleTitle>A corrected title') }]);
    const windowEnd = afterFirst!.syncedUntil!;
    server.addSearch('cells', [
      { pmid: old, edat: LONG_AGO, mdat: LONG_AGO },
      { pmid: corrected, edat: LONG_AGO, mdat: day(new Date()) },
      { pmid: boundary, edat: LONG_AGO, mdat: day(new Date(windowEnd.getTime() - DAY_MS)) },
      { pmid: untouched, edat: LONG_AGO, mdat: LONG_AGO },
    ]);

    const second = await syncOnce(context);
    expect(second).toMatchObject({ requested: 2, inserted: 1, updated: 1, unchanged: 0, failed: 0 });
    expect(esearches().at(-1)!.params).toMatchObject({ datetype: 'mdat', mindate: day(new Date(windowEnd.getTime() - DAY_MS)) });
    expect(await versions(corrected)).toEqual(['insert', 'update']);
    expect(await versions(boundary)).toEqual(['insert']);
    expect(await versions(old)).toEqual(['insert']);
    const [afterSecond] = await listSavedSearches(database.db);
    expect(afterSecond!.syncedUntil!.getTime()).toBeGreaterThan(windowEnd.getTime());
    expect(afterSecond!.lastRunId).toBe(second.runId);
  });

  it('keeps the window of a search whose PMIDs failed, so the next sync asks for them again', async () => {
    const pmids = stockServer(server, 2);
    server.addSearch('cells', pmids.map((pmid) => ({ pmid, edat: LONG_AGO, mdat: LONG_AGO })));
    await addSavedSearch(database.db, 'cells', 'cells');
    server.setFaults({ serverError: { probability: 1, utilities: ['efetch'] } });
    const failing = await syncOnce(context);
    expect(failing).toMatchObject({ requested: 2, inserted: 0, failed: 2 });
    expect((await listSavedSearches(database.db))[0]!.syncedUntil).toBeNull();

    server.setFaults({});
    const next = await syncOnce(context);
    expect(next).toMatchObject({ requested: 2, inserted: 2, failed: 0 });
    expect(esearches().at(-1)!.params).not.toHaveProperty('mindate');
    expect((await listSavedSearches(database.db))[0]!.lastRunId).toBe(next.runId);
  });

  it('resumes a released run: skips the searches it finished and continues the one in progress after its checkpoint', async () => {
    const pmids = stockServer(server, 7);
    server.addSearch('first', pmids.slice(0, 3).map((pmid) => ({ pmid, edat: LONG_AGO })));
    server.addSearch('second', pmids.slice(3).map((pmid) => ({ pmid, edat: LONG_AGO })));
    await addSavedSearch(database.db, 'first', 'first');
    await addSavedSearch(database.db, 'second', 'second');
    const startedAt = new Date().toISOString();
    // What a sync stopped by SIGTERM leaves: 'first' done, 'second' loaded up to input position 2.
    const released = await database.db
      .insertInto('etl_run')
      .values({
        job: 'sync',
        status: 'failed',
        input_key: 'sync',
        replica: 'gone:1',
        requested: 5,
        inserted: 5,
        checkpoint: JSON.stringify({ position: 2 }),
        stage: JSON.stringify({ done: ['first'], current: { search: 'second', query: 'second', since: null, startedAt, failedBefore: 0 } }),
        error: 'interrupted by shutdown',
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const resumed = await syncOnce(context);
    expect(resumed.resumedFrom).toBe(released.id);
    // PubMed lists the newest PMID first: positions 1 and 2 of 'second' were its two largest.
    expect(resumed).toMatchObject({ requested: 5 + 2, inserted: 5 + 2 });
    const loaded = await database.db.selectFrom('catalogue_record').select('pmid').orderBy('pmid').execute();
    expect(loaded.map((row) => row.pmid)).toEqual(pmids.slice(3, 5));
    expect(esearches().map((request) => request.params.term)).toEqual(['second']);
    const searches = await listSavedSearches(database.db);
    expect(searches.find((search) => search.name === 'second')).toMatchObject({ lastRunId: resumed.runId, syncedUntil: new Date(startedAt) });
    expect(searches.find((search) => search.name === 'first')!.syncedUntil).toBeNull();
    const old = await database.db.selectFrom('etl_run').select(['status', 'error']).where('id', '=', released.id).executeTakeFirstOrThrow();
    expect(old).toEqual({ status: 'abandoned', error: `interrupted by shutdown; run ${resumed.runId} resumed from its checkpoint` });
  });

  it('does not apply a checkpoint to a search whose window moved since the run stopped', async () => {
    const pmids = stockServer(server, 3);
    server.addSearch('cells', pmids.map((pmid) => ({ pmid, edat: LONG_AGO, mdat: day(new Date()) })));
    await addSavedSearch(database.db, 'cells', 'cells');
    await database.db
      .insertInto('etl_run')
      .values({
        job: 'sync',
        status: 'failed',
        input_key: 'sync',
        replica: 'gone:1',
        checkpoint: JSON.stringify({ position: 2 }),
        stage: JSON.stringify({ done: [], current: { search: 'cells', query: 'cells', since: null, startedAt: new Date().toISOString(), failedBefore: 0 } }),
      })
      .execute();
    await database.db.updateTable('saved_search').set({ synced_until: new Date(Date.now() - DAY_MS) }).execute();

    const resumed = await syncOnce(context);
    expect(resumed).toMatchObject({ requested: 3, inserted: 3 });
  });
});
