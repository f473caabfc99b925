import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { MAX_HITS_PER_QUERY, readEsearchResult, searchPubmed } from '../../src/extract/esearch.js';
import { type FakeEutils, type SearchHit, startFakeEutils } from '../support/fake-eutils.js';
import { readFixture } from '../support/ncbi-fixtures.js';
import { sorted } from '../support/request-log.js';

let server: FakeEutils;
let client: EutilsClient;

beforeEach(async () => {
  server = await startFakeEutils();
  client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 500, backoff: { baseDelayMs: 1, maxDelayMs: 5 } });
});

afterEach(async () => {
  await client.close();
  await server.close();
});

/** `count` hits spread one per day from 2020/01/01, modified a year after they were added. */
function hits(count: number, firstPmid = 30_000_000): SearchHit[] {
  return Array.from({ length: count }, (_, index) => {
    const day = new Date(Date.UTC(2020, 0, 1) + Math.floor(index / 10) * 86_400_000);
    const date = (year: number) => `${year}/${String(day.getUTCMonth() + 1).padStart(2, '0')}/${String(day.getUTCDate()).padStart(2, '0')}`;
    return { pmid: firstPmid + index, edat: date(day.getUTCFullYear()), mdat: date(day.getUTCFullYear() + 1) };
  });
}

async function collect(iterable: AsyncIterable<number>): Promise<number[]> {
  const pmids: number[] = [];
  for await (const pmid of iterable) pmids.push(pmid);
  return pmids;
}

const esearchCalls = () => server.requests.filter((request) => request.utility === 'esearch');

describe('readEsearchResult', () => {
  it('reads count, ids and history keys of a real answer', () => {
    const page = readEsearchResult(readFixture('ncbi/biopython/esearch2.xml'));
    expect(page).toMatchObject({ count: 42249, webEnv: 'MCID_6927d6e7fee3e90f880ec190', queryKey: '1' });
    expect(page.ids).toHaveLength(100);
    expect(page.ids[0]).toBe(41297076);
  });

  it('reads a search without hits (ErrorList/PhraseNotFound) as zero hits', () => {
    expect(readEsearchResult(readFixture('ncbi/biopython/esearch8.xml'))).toMatchObject({ count: 0, ids: [] });
  });
});

describe('searchPubmed', () => {
  it('pages through the history server with WebEnv and query_key', async () => {
    server.addSearch('asthma', hits(2500));
    const pmids = await collect(searchPubmed(client, 'asthma', { pageSize: 1000 }));
    expect(sorted(pmids)).toEqual(hits(2500).map((hit) => hit.pmid));
    const calls = esearchCalls();
    expect(calls.map((call) => call.params.retstart)).toEqual(['0', '1000', '2000']);
    expect(calls[0]?.params).toMatchObject({ usehistory: 'y', term: 'asthma' });
    expect(calls[1]?.params).toMatchObject({ WebEnv: 'MCID_fake1', query_key: '1' });
  });

  it('splits a query over 9,999 hits into date windows, losing none', async () => {
    server.addSearch('cancer', hits(25_000));
    const pmids = await collect(searchPubmed(client, 'cancer', { pageSize: MAX_HITS_PER_QUERY }));
    expect(pmids).toHaveLength(25_000);
    expect(sorted(pmids)).toEqual(hits(25_000).map((hit) => hit.pmid));
    for (const call of esearchCalls()) expect(Number(call.params.retstart)).toBeLessThanOrEqual(9998);
    expect(esearchCalls().some((call) => call.params.datetype === 'edat' && call.params.mindate !== undefined)).toBe(true);
  });

  it('searches a caller-given modification-date window', async () => {
    server.addSearch('sync', hits(100));
    const pmids = await collect(searchPubmed(client, 'sync', { datetype: 'mdat', mindate: '2021/01/01', maxdate: '2021/01/03' }));
    expect(sorted(pmids)).toEqual(hits(30).map((hit) => hit.pmid));
    expect(esearchCalls()[0]?.params).toMatchObject({ datetype: 'mdat', mindate: '2021/01/01', maxdate: '2021/01/03' });
  });

  it('lists a record once when it moves to a later window while the search pages through', async () => {
    const all = hits(12_000);
    server.addSearch('moving', all);
    const window = { datetype: 'mdat', mindate: '2021/01/01', maxdate: '2024/12/31' } as const;
    const pmids: number[] = [];
    for await (const pmid of searchPubmed(client, 'moving', window)) {
      // Once the first hit is listed, its record is modified: its mdat now lies in the last window.
      if (pmids.length === 0) server.addSearch('moving', all.map((hit) => (hit.pmid === pmid ? { ...hit, mdat: '2024/12/31' } : hit)));
      pmids.push(pmid);
    }
    expect(pmids).toHaveLength(12_000);
    expect(sorted(pmids)).toEqual(all.map((hit) => hit.pmid));
    expect(esearchCalls().some((call) => call.params.maxdate === '2024/12/31' && call.params.mindate !== '2021/01/01')).toBe(true);
  });

  it('refuses a malformed date before asking NCBI', async () => {
    await expect(collect(searchPubmed(client, 'x', { mindate: '2021-01-01', maxdate: '2021/01/02' }))).rejects.toThrow(/YYYY\/MM\/DD/);
    expect(server.requests).toHaveLength(0);
  });
});
