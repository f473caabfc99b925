import { afterEach, describe, expect, it } from 'vitest';
import { cutPmcArticleSet, cutPmcSummaries } from '../../src/extract/pmc-response.js';
import { type FakeEutils, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords, readFixture } from '../support/ncbi-fixtures.js';

let server: FakeEutils;
afterEach(() => server.close());

const post = (utility: string, params: Record<string, string>) =>
  fetch(new URL(`${utility}.fcgi`, server.url), { method: 'POST', body: new URLSearchParams(params) });

describe('fake E-utilities server', () => {
  it("answers 429 with NCBI's JSON body and Retry-After beyond its rate limit", async () => {
    server = await startFakeEutils({ rateLimit: 2, retryAfterSeconds: 2 });
    const answers = await Promise.all([1, 2, 3].map(() => post('efetch', { db: 'pubmed', id: '1', api_key: 'k1' })));
    const throttled = answers[2]!;
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(await throttled.json()).toEqual({ error: 'API rate limit exceeded', 'api-key': 'k1', count: '3', limit: '2' });
    expect(server.requests.map((request) => request.status)).toEqual([200, 200, 429]);
  });

  it('answers PMID 1 for the id "-1", as NCBI does', async () => {
    server = await startFakeEutils();
    const [record] = loadPubmedFixtureRecords();
    server.addPubmedRecords([{ pmid: 1, xml: record!.xml }]);
    const body = await (await post('efetch', { db: 'pubmed', id: '-1' })).text();
    expect(body).toContain(record!.xml);
  });

  it('refuses esearch retstart past 9,998 with an <ERROR>', async () => {
    server = await startFakeEutils();
    const body = await (await post('esearch', { db: 'pubmed', term: 'x', retstart: '9999' })).text();
    expect(body).toMatch(/<ERROR>Search Backend failed: Exception:\n'retstart' cannot be larger than 9998/);
  });

  it('waits its latency model: fixed plus per record', async () => {
    server = await startFakeEutils({ latency: { fixedMs: 40, perRecordMs: 20 } });
    server.addPubmedRecords(loadPubmedFixtureRecords());
    const started = Date.now();
    await (await post('efetch', { db: 'pubmed', id: '9997,12091962,11748933' })).text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('serves PMC articles and summaries, flagging ids it does not have like PMC does', async () => {
    server = await startFakeEutils();
    const articles = cutPmcArticleSet(readFixture('ncbi/pubget/articleset.xml'));
    server.addPmcArticles([...articles].map(([pmcid, xml]) => ({ pmcid, xml })));
    const body = await (await post('efetch', { db: 'pmc', id: '9057060,1' })).text();
    expect([...cutPmcArticleSet(body).keys()]).toEqual(['PMC9057060']);
    expect(body).toContain('<Reply Id="1" error="The following PMCID is not available: 1"/>');
    const summaries = await (await post('esummary', { db: 'pmc', id: '1' })).text();
    expect(cutPmcSummaries(summaries).size).toBe(0);
  });
});

describe('PMC answers', () => {
  it('keys each JATS article by its PMC id, as pmc or pmcid', () => {
    expect([...cutPmcArticleSet(readFixture('ncbi/pubget/articleset.xml')).keys()]).toEqual([
      'PMC9057060', 'PMC9056525', 'PMC9056519', 'PMC9056514', 'PMC9054084', 'PMC9053995', 'PMC9053985',
    ]);
    const newer = '<pmc-articleset><article><front><article-meta><article-id pub-id-type="pmcid">PMC123</article-id></article-meta></front></article></pmc-articleset>';
    expect([...cutPmcArticleSet(newer).keys()]).toEqual(['PMC123']);
  });

  it('keeps summaries per uid and leaves out uids answered with <error>', () => {
    expect([...cutPmcSummaries(readFixture('ncbi/eutils-json-klortho/esummary.pmcerror.xml')).keys()]).toEqual(['PMC254085', 'PMC14900']);
    expect([...cutPmcSummaries(readFixture('ncbi/biopython/esummary1.xml')).keys()]).toEqual(['PMC11850928', 'PMC11482001']);
  });

  it('refuses a truncated PMC article set', () => {
    const xml = readFixture('ncbi/biopython/efetch_pmc.xml');
    expect(() => cutPmcArticleSet(xml.slice(0, xml.length - 30))).toThrow(/truncated/);
  });
});
