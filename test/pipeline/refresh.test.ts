import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { parseAge, refreshCatalogue } from '../../jobs/refresh.js';
import { startOrResumeRun } from '../../src/load/runs.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';

describe('parseAge', () => {
  it('reads s, m, h, d and w, and refuses anything else', () => {
    expect(parseAge('90s')).toBe(90_000);
    expect(parseAge('30m')).toBe(1_800_000);
    expect(parseAge('12h')).toBe(43_200_000);
    expect(parseAge('7d')).toBe(604_800_000);
    expect(parseAge('2w')).toBe(1_209_600_000);
    expect(parseAge('7 days')).toBeUndefined();
    expect(parseAge('-1d')).toBeUndefined();
  });
});

describe.each(backends)('refresh on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let context: JobContext;

  beforeEach(async () => {
    database = await backend.open();
    server = await startFakeEutils({ latency: { fixedMs: 1 } });
    context = testJobContext(database, server, 5);
  });
  afterEach(async () => {
    await context.client.close();
    await server.close();
    await database.close();
  });

  const refresh = async (olderThanMs: number, limit?: number) => {
    const run = await startOrResumeRun(database.db, { job: 'refresh', inputKey: 'refresh', params: {} });
    const counters = await refreshCatalogue(run!, { olderThanMs, ...(limit === undefined ? {} : { limit }) }, context);
    await database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', run!.id).execute();
    return counters;
  };

  /** Pretends the given records were last checked `days` ago. */
  const age = (pmids: number[], days: number) =>
    database.db
      .updateTable('catalogue_record')
      .set({ last_checked_at: sql`now() - make_interval(days => ${days})` })
      .where('pmid', 'in', pmids)
      .execute();

  it('re-fetches only records checked longer ago than asked, oldest first and up to the limit', async () => {
    const pmids = stockServer(server, 12);
    await backfill(context, pmids);
    await age(pmids.slice(0, 8), 10);
    await age(pmids.slice(0, 2), 20);
    const before = server.requests.length;

    const counters = await refresh(7 * 86_400_000, 6);
    expect(counters).toMatchObject({ requested: 6, unchanged: 6, inserted: 0, updated: 0 });
    const asked = server.requests
      .slice(before)
      .filter((request) => request.utility === 'efetch')
      .flatMap((request) => request.params.id!.split(',').map(Number));
    expect(new Set(asked)).toEqual(new Set(pmids.slice(0, 6)));
    // The two oldest came first.
    expect(asked.slice(0, 2).sort()).toEqual(pmids.slice(0, 2));

    const second = await refresh(7 * 86_400_000);
    expect(second).toMatchObject({ requested: 2, unchanged: 2 });
    const third = await refresh(7 * 86_400_000);
    expect(third).toMatchObject({ requested: 0 });
  });

  it('versions a record that changed at NCBI and leaves the unchanged ones unwritten', async () => {
    const pmids = stockServer(server, 3);
    await backfill(context, pmids);
    const [changed] = pmids as [number];
    const source = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', changed).executeTakeFirstOrThrow();
    server.addPubmedRecords([{ pmid: changed, xml: source.pubmed_xml.replace(/<ArticleTitle>[^<]*/, '<ArticleTitle>Retracted: a new title') }]);
    await age(pmids, 8);

    const counters = await refresh(7 * 86_400_000);
    expect(counters).toMatchObject({ requested: 3, updated: 1, unchanged: 2 });
    const versions = await database.db.selectFrom('catalogue_record').select(['pmid', 'version']).orderBy('pmid').execute();
    expect(versions).toEqual(pmids.map((pmid) => ({ pmid, version: pmid === changed ? 2 : 1 })));
  });
});
