import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EutilsError } from '../../src/errors.js';
import { EutilsClient, type EutilsClientOptions } from '../../src/extract/eutils-client.js';
import { cutPubmedArticleSet } from '../../src/extract/efetch-response.js';
import { type FakeEutils, type FakeEutilsOptions, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';

const fixtures = loadPubmedFixtureRecords();
const API_KEY = 'secret-key-0123456789';
let server: FakeEutils;
let client: EutilsClient;

async function setUp(serverOptions: FakeEutilsOptions = {}, clientOptions: Partial<EutilsClientOptions> = {}): Promise<void> {
  server = await startFakeEutils({ latency: { fixedMs: 1 }, ...serverOptions });
  server.addPubmedRecords(fixtures);
  client = new EutilsClient({
    baseUrl: server.url,
    tool: 'pubcat-test',
    email: 'dev@example.org',
    maxRps: 200,
    requestTimeoutMs: 300,
    backoff: { baseDelayMs: 5, maxDelayMs: 20 },
    ...clientOptions,
  });
}

afterEach(async () => {
  await client.close();
  await server.close();
});

const fetchTwo = () => client.efetch({ db: 'pubmed', id: '12091962,9997' }, cutPubmedArticleSet);

describe('EutilsClient requests', () => {
  it('POSTs efetch with retmode=xml, tool, email and api_key', async () => {
    await setUp({}, { apiKey: API_KEY });
    const pieces = await fetchTwo();
    expect(pieces.records.map((record) => record.pmid)).toEqual([12091962, 9997]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      utility: 'efetch',
      status: 200,
      params: { db: 'pubmed', id: '12091962,9997', retmode: 'xml', tool: 'pubcat-test', email: 'dev@example.org', api_key: API_KEY },
    });
  });

  it('reads gzip-encoded answers', async () => {
    await setUp({ gzip: true });
    expect((await fetchTwo()).records).toHaveLength(2);
  });
});

describe('EutilsClient retries', () => {
  const transientFaults = ['serverError', 'errorInBody', 'truncated', 'reset', 'hang', 'blocked'] as const;
  for (const fault of transientFaults) {
    it(`retries after a ${fault} answer and returns the good one`, async () => {
      await setUp({ faults: { [fault]: { count: 2 } } });
      const pieces = await fetchTwo();
      expect(pieces.records.map((record) => record.pmid)).toEqual([12091962, 9997]);
      expect(server.requests.map((request) => request.fault)).toEqual([fault, fault, undefined]);
      expect(client.stats).toMatchObject({ requests: 3, retries: 2, failures: 0 });
    });
  }

  it('gives up after maxAttempts with an EutilsError naming the last reason', async () => {
    await setUp({ faults: { serverError: { probability: 1 } } }, { backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    const error = await fetchTwo().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EutilsError);
    expect((error as Error).message).toMatch(/efetch failed after 3 attempt\(s\): HTTP 50\d \(HTML page "/);
    expect(server.requests).toHaveLength(3);
    expect(client.stats.failures).toBe(1);
  });

  it('does not retry a status no retry can change (404)', async () => {
    await setUp();
    await client.close();
    client = new EutilsClient({ baseUrl: new URL('/not-eutils/', server.url).href, tool: 'pubcat-test', maxRps: 200 });
    const error = await fetchTwo().catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/failed after 1 attempt\(s\): HTTP 404/);
    expect(server.requests.map((request) => request.status)).toEqual([404]);
  });

  it('stops at the total deadline even when attempts remain', async () => {
    await setUp({ faults: { hang: { probability: 1 } } }, { requestTimeoutMs: 150, deadlineMs: 400, backoff: { maxAttempts: 50, baseDelayMs: 1, maxDelayMs: 1 } });
    const started = Date.now();
    const error = await fetchTwo().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EutilsError);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(server.requests.length).toBeLessThanOrEqual(4);
  });

  it('refuses an answer over the size cap and says so', async () => {
    await setUp({}, { maxResponseBytes: 5000, backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await fetchTwo().catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/exceeds the 5000-byte cap/);
  });

  it('never puts the API key in errors or logs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
    await setUp({ rateLimit: 1, faults: { errorInBody: { count: 1 } } }, { apiKey: API_KEY, logger, backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    const results = await Promise.allSettled([fetchTwo(), fetchTwo(), fetchTwo()]);
    const rejections = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as EutilsError] : []));
    expect(rejections.length).toBeGreaterThan(0);
    expect(client.stats.rateLimited).toBeGreaterThan(0);
    expect(server.requests.some((request) => request.status === 429)).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
    for (const text of [...lines, ...rejections.map((error) => `${error.message} ${JSON.stringify(error.input)}`)]) {
      expect(text).not.toContain(API_KEY);
    }
  });
});
