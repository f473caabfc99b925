import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { parseAge, refreshCatalogue, type RefreshOptions } from '../../jobs/refresh.js';
import { startOrResumeRun, type RunCounters } from '../../src/load/runs.js';
import { markDeleted } from '../../src/load/tombstones.js';
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

  const refresh = async (options: RefreshOptions, using = context) => {
    const run = await startOrResumeRun(database.db, { job: 'refresh', inputKey: 'refresh', params: {} });
    const counters = await refreshCatalogue(run!, options, using);
    await database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', run!.id).execute();
    return { ...counters, runId: run!.id };
  };
  const weekOld = 7 * 86_400_000;
  /** Every PMID asked ends in exactly one counter. */
  const accounted = (counters: RunCounters) =>
    counters.inserted + counters.updated + counters.unchanged + counters.deleted + counters.missing + counters.failed;
  /** A second NCBI with this test's records (as loaded) except `gone`. */
  const ncbiWithout = async (gone: number[]) => {
    const later = await startFakeEutils({ latency: { fixedMs: 1 } });
    const sources = await database.db.selectFrom('record_source').select(['pmid', 'pubmed_xml']).where('pmid', 'not in', [0, ...gone]).execute();
    later.addPubmedRecords(sources.map((row) => ({ pmid: row.pmid, xml: row.pubmed_xml })));
    servers.push(later);
    return later;
  };
  const contextFor = (eutils: FakeEutils, batchSize: number) => {
    const made = testJobContext(database, eutils, batchSize);
    contexts.push(made);
    return made;
  };
  const servers: FakeEutils[] = [];
  const contexts: JobContext[] = [];
  afterEach(async () => {
    for (const made of contexts.splice(0)) await made.client.close();
    for (const later of servers.splice(0)) await later.close();
  });

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

    const counters = await refresh({ olderThanMs: weekOld, limit: 6 });
    expect(counters).toMatchObject({ requested: 6, unchanged: 6, inserted: 0, updated: 0 });
    const asked = server.requests
      .slice(before)
      .filter((request) => request.utility === 'efetch')
      .flatMap((request) => request.params.id!.split(',').map(Number));
    expect(new Set(asked)).toEqual(new Set(pmids.slice(0, 6)));
    // The two oldest came first.
    expect(asked.slice(0, 2).sort()).toEqual(pmids.slice(0, 2));

    const second = await refresh({ olderThanMs: weekOld });
    expect(second).toMatchObject({ requested: 2, unchanged: 2 });
    const third = await refresh({ olderThanMs: weekOld });
    expect(third).toMatchObject({ requested: 0 });
  });

  it('versions a record that changed at NCBI and leaves the unchanged ones unwritten', async () => {
    const pmids = stockServer(server, 3);
    await backfill(context, pmids);
    const [changed] = pmids as [number];
    const source = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', changed).executeTakeFirstOrThrow();
    server.addPubmedRecords([{ pmid: changed, xml: source.pubmed_xml.replace(/<ArticleTitle>[^<]*/, '<ArticleTitle>Retracted: a new title') }]);
    await age(pmids, 8);

    const counters = await refresh({ olderThanMs: weekOld });
    expect(counters).toMatchObject({ requested: 3, updated: 1, unchanged: 2 });
    const versions = await database.db.selectFrom('catalogue_record').select(['pmid', 'version']).orderBy('pmid').execute();
    expect(versions).toEqual(pmids.map((pmid) => ({ pmid, version: pmid === changed ? 2 : 1 })));
  });

  it('tombstones nothing when NCBI answers two runs with empty sets: the misses count as failed, with the reason noted on the run', async () => {
    const pmids = stockServer(server, 30);
    await backfill(context, pmids);
    const outage = contextFor(await ncbiWithout(pmids), 10);

    for (const attempt of [1, 2]) {
      const counters = await refresh({ olderThanMs: 0 }, outage);
      expect(counters, `refresh ${attempt}`).toMatchObject({ requested: 30, unchanged: 0, deleted: 0, missing: 0, failed: 30 });
      expect(accounted(counters)).toBe(counters.requested);
      const run = await database.db.selectFrom('etl_run').select('error').where('id', '=', counters.runId).executeTakeFirstOrThrow();
      expect(run.error).toBe(
        "NCBI left out 10 of a batch's 10 PMIDs, more than PUBCAT_MAX_MISSING_SHARE=5 % of a batch of 10: its missing records are not tombstoned, count as failed, and are asked for again by the next run",
      );
    }
    const statuses = await database.db.selectFrom('catalogue_record').select(['status', 'version']).distinct().execute();
    expect(statuses).toEqual([{ status: 'active', version: 1 }]);
    const misses = await database.db.selectFrom('missing_pmid').select(['miss_count', 'consecutive_misses']).distinct().execute();
    expect(misses).toEqual([{ miss_count: 2, consecutive_misses: 0 }]);
  });

  it('tombstones the few PMIDs NCBI really dropped on the second run, asked beside the records they were asked with before', async () => {
    const pmids = stockServer(server, 80);
    await backfill(context, pmids);
    // One in the first batch of 20 and one in the third: 5 % of each, as much as the share allows.
    const gone = [pmids[5]!, pmids[45]!];
    const later = contextFor(await ncbiWithout(gone), 20);

    const first = await refresh({ olderThanMs: 0 }, later);
    expect(first).toMatchObject({ requested: 80, unchanged: 78, missing: 2, deleted: 0, failed: 0 });
    // Were the misses asked first now, both would fall in one batch of 20: 10 %, an outage.
    const second = await refresh({ olderThanMs: 0 }, later);
    expect(second).toMatchObject({ requested: 80, unchanged: 78, missing: 0, deleted: 2, failed: 0 });
    expect(accounted(second)).toBe(second.requested);

    const tombstones = await database.db.selectFrom('catalogue_record_version').select(['pmid', 'op', 'reason', 'run_id'])
      .where('op', '=', 'delete').orderBy('pmid').execute();
    expect(tombstones).toEqual(gone.map((pmid) => ({ pmid, op: 'delete', reason: 'missing', run_id: second.runId })));
  });

  it('re-checks tombstones with includeDeleted, and restores one that NCBI serves again', async () => {
    const pmids = stockServer(server, 3);
    const loaded = await backfill(context, pmids);
    const [revived] = pmids as [number];
    await markDeleted(database.db, [revived], loaded.runId, 'missing');

    const activeOnly = await refresh({ olderThanMs: 0 });
    expect(activeOnly).toMatchObject({ requested: 2, unchanged: 2 });
    const withTombstones = await refresh({ olderThanMs: 0, includeDeleted: true });
    expect(withTombstones).toMatchObject({ requested: 3, unchanged: 2, updated: 1 });

    const history = await database.db.selectFrom('catalogue_record_version').select(['op', 'run_id']).where('pmid', '=', revived).orderBy('version').execute();
    expect(history).toEqual([
      { op: 'insert', run_id: loaded.runId },
      { op: 'delete', run_id: loaded.runId },
      { op: 'restore', run_id: withTombstones.runId },
    ]);
    const record = await database.db.selectFrom('catalogue_record').select('status').where('pmid', '=', revived).executeTakeFirstOrThrow();
    expect(record.status).toBe('active');
  });

  it('counts every DeleteCitation as deleted, whether it tombstones a record, finds a tombstone or finds nothing loaded', async () => {
    const [kept, deletedLater] = stockServer(server, 2) as [number, number];
    await backfill(context, [kept, deletedLater]);
    const neverLoaded = 80_000_002;
    const later = await ncbiWithout([deletedLater]);
    later.addDeletedPmids([deletedLater, neverLoaded]);
    const laterContext = contextFor(later, 200);

    const first = await backfill(laterContext, [kept, deletedLater, neverLoaded, 80_000_001], 'first');
    expect(first).toMatchObject({ requested: 4, unchanged: 1, deleted: 2, missing: 1 });
    expect(accounted(first)).toBe(first.requested);
    const second = await backfill(laterContext, [deletedLater, neverLoaded], 'second');
    expect(second).toMatchObject({ requested: 2, deleted: 2 });
    expect(accounted(second)).toBe(second.requested);

    const versions = await database.db.selectFrom('catalogue_record_version').select('op').where('pmid', '=', deletedLater).orderBy('version').execute();
    expect(versions.map((version) => version.op)).toEqual(['insert', 'delete']);
  });
});
