import { afterEach, describe, expect, it } from 'vitest';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { cutPubmedArticleSet } from '../../src/extract/efetch-response.js';
import { StartRateLimiter } from '../../src/extract/rate-limiter.js';
import { type FakeEutils, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';
import { maxStartsInAnyWindow } from '../support/request-log.js';

const fixtures = loadPubmedFixtureRecords();
let server: FakeEutils;
let client: EutilsClient;

const fetchOne = (pmid: number) => client.efetch({ db: 'pubmed', id: String(pmid) }, cutPubmedArticleSet);
const pmids = fixtures.map((record) => record.pmid);

describe('request start rate', () => {
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('never starts more than maxRps requests in any second, while requests overlap', async () => {
    server = await startFakeEutils({ rateLimit: 20, latency: { fixedMs: 150 } });
    server.addPubmedRecords(fixtures);
    // The server shares this process's event loop, so on a busy machine it notes arrivals up to
    // ~100 ms late; a 10 % margin keeps the check about the limiter, not about the test machine.
    client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 20, paceFactor: 0.9 });
    const calls = Array.from({ length: 45 }, (_, index) => fetchOne(pmids[index % pmids.length] as number));
    const answers = await Promise.all(calls);

    expect(answers.every((answer) => answer.records.length === 1)).toBe(true);
    expect(server.requests).toHaveLength(45);
    expect(maxStartsInAnyWindow(server.requests)).toBeLessThanOrEqual(20);
    expect(server.requests.filter((request) => request.status === 429)).toHaveLength(0);
    const overlapping = server.requests.filter((request, index) => {
      const next = server.requests[index + 1];
      return next !== undefined && request.doneAt !== undefined && next.at < request.doneAt;
    });
    expect(overlapping.length).toBeGreaterThan(20);
  });

  it('after a 429, honours Retry-After for every caller, then finishes the work', async () => {
    server = await startFakeEutils({ rateLimit: 10, retryAfterSeconds: 1, latency: { fixedMs: 5 } });
    server.addPubmedRecords(fixtures);
    client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 40, backoff: { baseDelayMs: 5, maxDelayMs: 10 } });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, index) => fetchOne(pmids[index % pmids.length] as number)));

    expect(answers.every((answer) => answer.records.length === 1)).toBe(true);
    const throttled = server.requests.filter((request) => request.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(client.stats.rateLimited).toBe(throttled.length);
    // Once the client has seen the first 429, nobody starts until Retry-After has passed.
    const firstThrottle = (throttled[0] as { at: number }).at;
    const duringPause = server.requests.filter((request) => request.at > firstThrottle + 100 && request.at < firstThrottle + 950);
    expect(duringPause).toHaveLength(0);
  });
});

describe('StartRateLimiter', () => {
  it('grants at most maxRps starts in any window of 1000 / paceFactor ms, spread over it', async () => {
    const limiter = new StartRateLimiter(4, 0.98);
    const times: number[] = [];
    await Promise.all(Array.from({ length: 8 }, () => limiter.acquire().then(() => times.push(Date.now()))));
    for (let index = 4; index < times.length; index += 1) {
      expect((times[index] as number) - (times[index - 4] as number)).toBeGreaterThanOrEqual(1020);
    }
    for (let index = 1; index < times.length; index += 1) {
      expect((times[index] as number) - (times[index - 1] as number)).toBeGreaterThanOrEqual(127);
    }
    expect((times[7] as number) - (times[0] as number)).toBeLessThan(1020 + 3 * 128 + 100);
  });

  it('makes a fractional rate whole starts over a shorter window', () => {
    const limiter = new StartRateLimiter(2.5, 1);
    expect([limiter.perWindow, limiter.windowMs]).toEqual([2, 800]);
  });

  it('holds back every waiting caller during a cool-down', async () => {
    const limiter = new StartRateLimiter(1000);
    await limiter.acquire();
    limiter.coolDown(300);
    const started = Date.now();
    await Promise.all([limiter.acquire(), limiter.acquire()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
  });

  it('widens its window by 3 % after each 429, and by 15 % at most', () => {
    const limiter = new StartRateLimiter(3, 1);
    limiter.coolDown(0);
    expect(limiter.windowMs).toBeCloseTo(1030, 6);
    expect(limiter.minGapMs).toBeCloseTo(1030 / 3 / 2, 6);
    for (let count = 0; count < 10; count += 1) limiter.coolDown(0);
    expect(limiter.windowMs).toBeCloseTo(1150, 6);
  });

  it('counts a start that reaches the server late (a new connection) at its arrival, spacing the next window from there', async () => {
    const limiter = new StartRateLimiter(2, 1);
    const times: number[] = [];
    const grants = [80, 0, 0].map((delay) => limiter.acquire(undefined, () => delay).then(() => times.push(Date.now())));
    await Promise.all(grants);
    // Two starts per 1000 ms: the third waits for the first's counted arrival (80 ms late) + 1000.
    expect((times[2] as number) - (times[0] as number)).toBeGreaterThanOrEqual(1078);
  });

  it('drops a waiter whose signal aborts', async () => {
    const limiter = new StartRateLimiter(1);
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(limiter.waiting).toBe(0);
  });
});
