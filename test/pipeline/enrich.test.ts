/** enrich: records that came without PMC parts get them, and become exactly what a backfill with PMC builds. */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { enrichRecords, ENRICH_INPUT_KEY } from '../../src/commands/enrich.js';
import { startOrResumeRun } from '../../src/load/runs.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';

const seedRecord = JSON.parse(readFileSync(new URL('../fixtures/seed-record/31810187.record.json', import.meta.url), 'utf8'));
const SEED_PMID = 31810187;
/** A fixture record with a PMC id for which the fake PMC has nothing. */
const NO_PMC_DATA_PMID = 24349601;

describe.each(backends)('enrich on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let context: JobContext;

  beforeEach(async () => {
    database = await backend.open();
    server = await startFakeEutils({ latency: { fixedMs: 1 } });
    context = testJobContext(database, server);
    stockServer(server);
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  const enrich = async (limit?: number) => {
    const run = await startOrResumeRun(database.db, { job: 'enrich', inputKey: ENRICH_INPUT_KEY, params: {} });
    if (run === null) throw new Error('enrich run held elsewhere');
    const counters = await enrichRecords(run, context, limit === undefined ? {} : { limit });
    await database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', run.id).execute();
    return counters;
  };
  const stored = (pmid: number) =>
    database.db
      .selectFrom('catalogue_record')
      .innerJoin('record_source', 'record_source.pmid', 'catalogue_record.pmid')
      .select(['record', 'version', 'content_hash', 'last_checked_at', 'pmc_article_xml', 'pmc_summary_xml'])
      .where('catalogue_record.pmid', '=', pmid)
      .executeTakeFirstOrThrow();

  it('gives a record loaded without PMC the record a backfill with PMC gives, asking PMC only', async () => {
    await backfill({ ...context, settings: { ...context.settings, pmc: false } }, [SEED_PMID, NO_PMC_DATA_PMID], 'without PMC');
    const before = await stored(SEED_PMID);
    expect(before.record).not.toHaveProperty('publisher');
    const nothingForIt = await stored(NO_PMC_DATA_PMID);
    const pubmedCalls = server.requests.filter((request) => request.params.db === 'pubmed').length;

    const result = await enrich();
    expect(result).toMatchObject({ requested: 2, inserted: 0, updated: 1, unchanged: 1, failed: 0, missing: 0 });
    const after = await stored(SEED_PMID);
    expect(after.record).toEqual(seedRecord);
    expect(after.version).toBe(2);
    expect(after.pmc_article_xml).not.toBeNull();
    expect(after.pmc_summary_xml).not.toBeNull();
    // Nothing was checked against PubMed: a record PMC adds nothing to keeps its check time.
    expect(await stored(NO_PMC_DATA_PMID)).toEqual(nothingForIt);
    expect(server.requests.filter((request) => request.params.db === 'pubmed')).toHaveLength(pubmedCalls);

    // The same as a backfill with PMC writes: nothing changes.
    const backfilled = await backfill(context, [SEED_PMID], 'with PMC');
    expect(backfilled).toMatchObject({ updated: 0, unchanged: 1 });
    expect((await stored(SEED_PMID)).content_hash).toBe(after.content_hash);

    // Enriched, the seed is no longer picked; the record PMC has nothing for is asked about again.
    expect(await enrich()).toMatchObject({ requested: 1, updated: 0, unchanged: 1 });
  });

  it('takes at most --limit records, and resumes after the last loaded batch', async () => {
    await backfill({ ...context, settings: { ...context.settings, pmc: false } }, [SEED_PMID, NO_PMC_DATA_PMID], 'without PMC');
    // A released run whose checkpoint passed the lower PMID resumes there: only the seed is left to it.
    const released = await startOrResumeRun(database.db, { job: 'enrich', inputKey: ENRICH_INPUT_KEY, params: {} });
    await database.db
      .updateTable('etl_run')
      .set({ status: 'failed', checkpoint: JSON.stringify({ afterPmid: NO_PMC_DATA_PMID, done: 1 }), requested: 1, unchanged: 1 })
      .where('id', '=', released!.id)
      .execute();
    const resumed = await enrich();
    expect(resumed).toMatchObject({ requested: 2, updated: 1, unchanged: 1 });
    expect((await stored(SEED_PMID)).record).toEqual(seedRecord);
    const runs = await database.db.selectFrom('etl_run').select('id').where('job', '=', 'enrich').execute();
    expect(runs).toHaveLength(1);

    expect(await enrich(1)).toMatchObject({ requested: 1 });
  });

  it('counts a record whose PMC calls fail as failed and loads nothing for it, so the next run asks again', async () => {
    await backfill({ ...context, settings: { ...context.settings, pmc: false } }, [SEED_PMID], 'without PMC');
    const before = await stored(SEED_PMID);
    server.setFaults({ serverError: { probability: 1, dbs: ['pmc'] } });
    expect(await enrich()).toMatchObject({ requested: 1, updated: 0, unchanged: 0, failed: 1 });
    expect(await stored(SEED_PMID)).toEqual(before);
    server.setFaults({});
    expect(await enrich()).toMatchObject({ requested: 1, updated: 1, failed: 0 });
    expect((await stored(SEED_PMID)).record).toEqual(seedRecord);
  });
});
