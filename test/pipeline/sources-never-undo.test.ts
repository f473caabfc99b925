/** Sources never undo each other: PMC parts a source does not bring are kept, and an older PubMed record is not applied. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';

const SEED_PMID = 31810187;

describe.each(backends)('sources that never undo each other on $name', (backend) => {
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

  const stored = () =>
    database.db.selectFrom('catalogue_record').innerJoin('record_source', 'record_source.pmid', 'catalogue_record.pmid')
      .select(['version', 'content_hash', 'pmc_article_xml', 'pmc_summary_xml']).where('catalogue_record.pmid', '=', SEED_PMID).executeTakeFirstOrThrow();

  it('keeps the stored PMC parts through a --no-pmc backfill and the normal one after it: no version is written', async () => {
    await backfill(context, [SEED_PMID], 'with PMC');
    const before = await stored();
    expect(before.pmc_article_xml).not.toBeNull();
    const withoutPmc = await backfill({ ...context, settings: { ...context.settings, pmc: false } }, [SEED_PMID], 'without PMC');
    expect(withoutPmc).toMatchObject({ requested: 1, updated: 0, unchanged: 1 });
    expect(await stored()).toEqual(before);
    const again = await backfill(context, [SEED_PMID], 'with PMC again');
    expect(again).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await stored()).toEqual(before);
  });

  it('keeps the stored PMC parts when the PMC calls fail', async () => {
    await backfill(context, [SEED_PMID], 'with PMC');
    const before = await stored();
    server.setFaults({ serverError: { probability: 1, dbs: ['pmc'] } });
    const failedPmc = await backfill(context, [SEED_PMID], 'PMC failing');
    expect(failedPmc).toMatchObject({ updated: 0, unchanged: 1 });
    expect(await stored()).toEqual(before);
  });

  it('counts a PubMed record revised earlier than the stored one as older, and changes nothing', async () => {
    await backfill(context, [SEED_PMID], 'current');
    const before = await stored();
    const current = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    const earlier = current.pubmed_xml
      .replace('<DateRevised><Year>2020</Year><Month>01</Month><Day>13</Day>', '<DateRevised><Year>2019</Year><Month>12</Month><Day>30</Day>')
      .replace(/<ArticleTitle>[^<]*/, '<ArticleTitle>The title before its correction');
    expect(earlier).toContain('<Year>2019</Year><Month>12</Month><Day>30</Day>');
    server.addPubmedRecords([{ pmid: SEED_PMID, xml: earlier }]);
    const result = await backfill(context, [SEED_PMID], 'older');
    expect(result).toMatchObject({ requested: 1, older: 1, inserted: 0, updated: 0, unchanged: 0, failed: 0 });
    expect(await stored()).toEqual(before);
    const run = await database.db.selectFrom('etl_run').select('older').where('id', '=', result.runId).executeTakeFirstOrThrow();
    expect(run.older).toBe(1);
  });
});
