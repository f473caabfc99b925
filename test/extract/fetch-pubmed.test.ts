import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { fetchPubmed } from '../../src/extract/fetch-pubmed.js';
import { type FakeEutils, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords, loadSeedPmc, replicateRecords } from '../support/ncbi-fixtures.js';
import { outcomePmids, sorted } from '../support/request-log.js';

const fixtures = loadPubmedFixtureRecords();
const UNKNOWN = [90_000_001, 90_000_002];
let server: FakeEutils;
let client: EutilsClient;

beforeEach(async () => {
  server = await startFakeEutils({ latency: { fixedMs: 2 } });
  server.addPubmedRecords(fixtures);
  client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 200, requestTimeoutMs: 500, backoff: { baseDelayMs: 2, maxDelayMs: 10 } });
});

afterEach(async () => {
  await client.close();
  await server.close();
});

const efetchIds = () => server.requests.filter((request) => request.utility === 'efetch' && request.params.db === 'pubmed').map((request) => request.params.id);

describe('fetchPubmed', () => {
  it('sorts every requested PMID into articles, books, deleted or missing, exactly once', async () => {
    server.addDeletedPmids([80_000_001]);
    const asked = [...fixtures.map((record) => record.pmid), 80_000_001, ...UNKNOWN];
    const result = await fetchPubmed(client, asked, { pmc: false, batchSize: 5 });

    expect(sorted(outcomePmids(result))).toEqual(sorted(asked));
    expect(result.books.map((record) => record.pmid)).toEqual([20301577]);
    expect(result.articles).toHaveLength(fixtures.length - 1);
    expect(result.deleted).toEqual([80_000_001]);
    expect(sorted(result.missing)).toEqual(UNKNOWN);
    expect(result.failed).toEqual([]);
    for (const article of result.articles) {
      expect(article.xml).toBe(fixtures.find((record) => record.pmid === article.pmid)?.xml);
    }
  });

  it('batches the PMIDs and re-asks the ones not returned together before calling them missing', async () => {
    const asked = [...fixtures.map((record) => record.pmid), ...UNKNOWN];
    await fetchPubmed(client, asked, { pmc: false, batchSize: 4 });
    const ids = efetchIds();
    expect(ids.slice(0, -1).map((id) => id?.split(',').length)).toEqual([4, 4, 4, 3]);
    expect(sorted(ids[ids.length - 1]!.split(',').map(Number))).toEqual(UNKNOWN);
  });

  it('spends one re-ask per batch of unknown PMIDs, not one per PMID', async () => {
    const unknown = Array.from({ length: 100 }, (_, index) => 70_000_000 + index);
    const result = await fetchPubmed(client, unknown, { pmc: false, batchSize: 200 });
    expect(sorted(result.missing)).toEqual(unknown);
    expect(efetchIds()).toHaveLength(2);
  });

  it('counts a PMID that comes back on the re-ask as returned', async () => {
    server.setFaults({ dropIds: { count: 1 } });
    const asked = fixtures.map((record) => record.pmid);
    const result = await fetchPubmed(client, asked, { pmc: false });
    expect(result.missing).toEqual([]);
    expect(result.articles.length + result.books.length).toBe(asked.length);
    expect(efetchIds().length).toBeGreaterThan(1);
  });

  it('does not count a returned PMID that was not asked for', async () => {
    server.setFaults({ strayRecord: { count: 1 } });
    const result = await fetchPubmed(client, [9997], { pmc: false });
    expect(result.articles.map((record) => record.pmid)).toEqual([9997]);
    expect(outcomePmids(result)).toEqual([9997]);
  });

  it('asks for a PMID given twice only once', async () => {
    const result = await fetchPubmed(client, [9997, 9997, 12091962], { pmc: false });
    expect(sorted(outcomePmids(result))).toEqual([9997, 12091962]);
    expect(efetchIds()).toEqual(['9997,12091962']);
  });

  it('refuses a PMID that is not a positive integer before asking NCBI', async () => {
    await expect(fetchPubmed(client, [9997, -1])).rejects.toBeInstanceOf(InputError);
    expect(server.requests).toHaveLength(0);
  });

  it('splits a batch that keeps failing into halves, and gives up only the PMID that cannot be fetched', async () => {
    const pmids = Array.from({ length: 16 }, (_, index) => 70_000_000 + index);
    const copies = replicateRecords(fixtures, pmids);
    // One record too large for the response cap: every batch holding it fails.
    const big = { pmid: 70_000_005, xml: (copies[5] as { xml: string }).xml.replace('</PubmedArticle>', `<!--${'x'.repeat(120_000)}--></PubmedArticle>`) };
    server.addPubmedRecords([...copies, big]);
    await client.close();
    client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 500, maxResponseBytes: 100_000, backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });

    const result = await fetchPubmed(client, pmids, { pmc: false, batchSize: 16 });
    expect(result.failed).toEqual([{ pmid: 70_000_005, reason: expect.stringMatching(/exceeds the 100000-byte cap/) }]);
    expect(sorted(result.articles.map((record) => record.pmid))).toEqual(pmids.filter((pmid) => pmid !== 70_000_005));
    expect(Math.max(...efetchIds().map((id) => id?.split(',').length ?? 0))).toBe(16);
  });

  it('adds PMC front matter and summary for articles with a PMC id', async () => {
    const seed = loadSeedPmc();
    server.addPmcArticles([seed.article]);
    server.addPmcSummaries([seed.summary]);
    const result = await fetchPubmed(client, [31810187, 24349601, 9997]);

    expect([...result.pmc.keys()]).toEqual(['PMC6947442']);
    expect(result.pmc.get('PMC6947442')).toEqual({ pmcid: 'PMC6947442', articleXml: seed.article.xml, summaryXml: seed.summary.xml });
    const pmcCalls = server.requests.filter((request) => request.params.db === 'pmc');
    expect(pmcCalls.map((request) => [request.utility, sorted(request.params.id?.split(',').map(Number) ?? [])])).toEqual(
      expect.arrayContaining([
        ['efetch', [3858957, 6947442]],
        ['esummary', [3858957, 6947442]],
      ]),
    );
  });

  it('keeps the PubMed records when a PMC call fails, without PMC data for them', async () => {
    const seed = loadSeedPmc();
    server.addPmcArticles([seed.article]);
    server.addPmcSummaries([seed.summary]);
    server.setFaults({ serverError: { probability: 1, utilities: ['efetch'], dbs: ['pmc'] } });
    const result = await fetchPubmed(client, [31810187, 9997]);

    expect(result.articles.map((record) => record.pmid)).toEqual([31810187, 9997]);
    expect(result.failed).toEqual([]);
    expect(result.pmc.get('PMC6947442')).toEqual({ pmcid: 'PMC6947442', summaryXml: seed.summary.xml });
  });
});
