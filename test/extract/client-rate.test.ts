import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { cutPubmedArticleSet } from '../../src/extract/efetch-response.js';
import { StartRateLimiter } from '../../src/extract/rate-limiter.js';
import { LocalStartBudget, type ReservationRequest, type StartBudget, monotonicNow } from '../../src/extract/start-budget.js';
import { type FakeEutils, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';
import { maxStartsInAnyWindow } from '../support/request-log.js';

const fixtures = loadPubmedFixtureRecords();

/** A budget that hands out each asked-for start right after the last, from 20 ms from now: `first` is the first start. */
function backToBackBudget(): { budget: StartBudget; first: number } {
  let cursor = monotonicNow() + 20;
  const first = cursor;
  const budget: StartBudget = {
    reserve: async ({ gapsMs }) => ({
      starts: gapsMs.map((gapMs) => {
        const from = Math.max(cursor, monotonicNow());
        cursor = from + gapMs;
        return { from, until: from + 1000, allowanceMs: 0 };
      }),
    }),
    pause: async () => undefined,
  };
  return { budget, first };
}
let server: FakeEutils;
let client: EutilsClient;

const fetchOne = (pmid: number) => client.efetch({ db: 'pubmed', id: String(pmid) }, cutPubmedArticleSet);
const pmids = fixtures.map((record) => record.pmid);

describe('request start rate', () => {
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('starts requests evenly, so no sliding second at the server holds more than maxRps arrivals, while requests overlap', async () => {
    server = await startFakeEutils({ rateLimit: 20, latency: { fixedMs: 150 } });
    server.addPubmedRecords(fixtures);
    // The server shares this process's event loop, so on a busy machine it notes arrivals up to
    // ~100 ms late; a 10 % margin keeps the check about the limiter, not about the test machine.
    client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 20, paceFactor: 0.9 });
    const calls = Array.from({ length: 45 }, (_, index) => fetchOne(pmids[index % pmids.length] as number));
    const answers = await Promise.all(calls);

    expect(answers.every((answer) => answer.records.length === 1)).toBe(true);
    expect(server.requests).toHaveLength(45);
    // The fake server counts arrivals less than 1000 ms apart as one second's, as this does.
    expect(maxStartsInAnyWindow(server.requests)).toBeLessThanOrEqual(20);
    const arrivals = server.requests.map((request) => request.at);
    // Spaced from their actual starts, the 45 take a little longer than 44 spacings when timers fire late.
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan((1.3 * 44 * 1000) / (20 * 0.9));
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
  it('lets a process exit once every caller waiting out a long pause has given up', () => {
    const limiter = new URL('../../dist/src/extract/rate-limiter.js', import.meta.url).href;
    const script = `
      const { StartRateLimiter } = await import(${JSON.stringify(limiter)});
      const limiter = new StartRateLimiter(3);
      await limiter.coolDown(60_000);
      const waiting = limiter.acquire(AbortSignal.timeout(100)).catch(() => 'gave up');
      console.log(await waiting);`;
    const startedAt = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.stdout.trim()).toBe('gave up');
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('spaces consecutive starts at least 1000 / (maxRps × paceFactor) ms apart, in FIFO order, at that rate', async () => {
    const limiter = new StartRateLimiter(10, 0.98);
    const grants: Array<{ caller: number; at: number }> = [];
    await Promise.all(Array.from({ length: 8 }, (_, caller) => limiter.acquire().then(() => grants.push({ caller, at: Date.now() }))));
    expect(grants.map((grant) => grant.caller)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const spacing = 1000 / (10 * 0.98);
    for (let index = 1; index < grants.length; index += 1) {
      expect((grants[index] as { at: number }).at - (grants[index - 1] as { at: number }).at).toBeGreaterThanOrEqual(Math.floor(spacing));
    }
    expect((grants[7] as { at: number }).at - (grants[0] as { at: number }).at).toBeLessThan(7 * spacing + 100);
  });

  it('spaces a fractional rate the same way', () => {
    expect(new StartRateLimiter(2.5, 1).spacingMs).toBe(400);
  });

  it('holds back every waiting caller during a cool-down', async () => {
    const limiter = new StartRateLimiter(1000);
    await limiter.acquire();
    await limiter.coolDown(300);
    const started = Date.now();
    await Promise.all([limiter.acquire(), limiter.acquire()]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
  });

  it('widens its spacing by 3 % after each 429, and by 15 % at most', async () => {
    const limiter = new StartRateLimiter(3, 1);
    await limiter.coolDown(0);
    expect(limiter.spacingMs).toBeCloseTo((1000 / 3) * 1.03, 6);
    for (let count = 0; count < 10; count += 1) await limiter.coolDown(0);
    expect(limiter.spacingMs).toBeCloseTo((1000 / 3) * 1.15, 6);
  });

  it('counts a start that reaches the server late (a new connection) at its arrival, spacing the next one from there', async () => {
    const limiter = new StartRateLimiter(2, 1);
    const times: number[] = [];
    const grants = [80, 0, 0].map((delay) => limiter.acquire(undefined, () => delay).then(() => times.push(Date.now())));
    await Promise.all(grants);
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(579);
    expect((times[2] as number) - (times[1] as number)).toBeGreaterThanOrEqual(499);
    expect((times[2] as number) - (times[1] as number)).toBeLessThan(579);
  });

  it('reserves no room for an arrival delay that the margin absorbs (a quick connect), and room for a longer one', async () => {
    const asked: ReservationRequest[] = [];
    const budget = new LocalStartBudget();
    const recording: StartBudget = { reserve: (request) => (asked.push(request), budget.reserve(request)), pause: (ms) => budget.pause(ms) };
    // At 2 requests/s and pace 0.95, 3 starts span 1053 ms: 53 ms to spare, 9 ms of it for a late arrival.
    const limiter = new StartRateLimiter(2, 0.95, recording);
    await limiter.acquire(undefined, () => 8);
    await limiter.acquire(undefined, () => 14);
    // The second caller asks until its start is free, each time with room for its arrival.
    expect(asked[0]!.allowanceMs).toBe(0);
    expect(asked.slice(1).map((request) => request.gapsMs)).toEqual(asked.slice(1).map(() => [1000 / 1.9 + 14]));
  });

  it('drops a waiter whose signal aborts, and gives its start to the next one', async () => {
    const limiter = new StartRateLimiter(4, 1);
    await limiter.acquire();
    const controller = new AbortController();
    const dropped = limiter.acquire(controller.signal);
    const next = limiter.acquire();
    controller.abort(new Error('gave up'));
    await expect(dropped).rejects.toThrow('gave up');
    const started = Date.now();
    await next;
    expect(Date.now() - started).toBeLessThan(250 + 100);
    expect(limiter.waiting).toBe(0);
  });

  it('fails the waiting caller with the reason when its budget cannot give a start', async () => {
    const budget = { reserve: () => Promise.reject(new Error('budget unreachable')), pause: () => Promise.resolve() };
    const limiter = new StartRateLimiter(4, 1, budget);
    await expect(limiter.acquire()).rejects.toThrow('budget unreachable');
    expect(limiter.waiting).toBe(0);
  });

  it('reserves a start for every waiting caller in one go, up to about a second of them', async () => {
    const asked: ReservationRequest[] = [];
    let cursor = Number.NEGATIVE_INFINITY;
    const budget: StartBudget = {
      reserve: async (request) => {
        asked.push(request);
        // Starts 10 ms apart, after those already reserved.
        const first = Math.max(cursor, monotonicNow());
        cursor = first + request.gapsMs.length * 10;
        return { starts: request.gapsMs.map((_, index) => ({ from: first + index * 10, until: first + index * 10 + 50, allowanceMs: 0 })) };
      },
      pause: async () => undefined,
    };
    // 10 requests/s at pace 0.95: 105 ms apart, 9 of them within a second.
    const limiter = new StartRateLimiter(10, 0.95, budget);
    await Promise.all(Array.from({ length: 12 }, () => limiter.acquire()));
    expect(asked.map((request) => request.gapsMs.length)).toEqual([9, 3]);
    expect(asked[0]?.gapsMs[0]).toBeCloseTo(1000 / 9.5, 6);
    // A third of the 53 ms that 11 starts 105 ms apart leave to spare in a second.
    expect(asked[0]?.lateMs).toBeCloseTo((10 * (1000 / 9.5) - 1000) / 3, 6);
  });

  it('asks for starts for the callers still waiting before the starts it holds are used', async () => {
    const asked: { count: number; lastHeldAhead: boolean }[] = [];
    let lastFrom = Number.NEGATIVE_INFINITY;
    const budget: StartBudget = {
      reserve: async ({ gapsMs }) => {
        asked.push({ count: gapsMs.length, lastHeldAhead: lastFrom > monotonicNow() });
        const first = Math.max(lastFrom + 200, monotonicNow());
        const starts = gapsMs.map((_, index) => ({ from: first + index * 200, until: first + index * 200 + 1000, allowanceMs: 0 }));
        lastFrom = starts.at(-1)!.from;
        return { starts };
      },
      pause: async () => undefined,
    };
    // 5 requests/s at pace 1: 200 ms apart, 5 within a second; the second reservation, asked while
    // 4 starts are still held, reaches no further than a second past the last of them.
    const limiter = new StartRateLimiter(5, 1, budget);
    await Promise.all(Array.from({ length: 7 }, () => limiter.acquire()));
    expect(asked).toEqual([
      { count: 5, lastHeldAhead: false },
      { count: 2, lastHeldAhead: true },
    ]);
  });

  it('lets a request that will arrive late take the first start it holds, giving up the later ones too close to it', async () => {
    const { budget, first } = backToBackBudget();
    const limiter = new StartRateLimiter(5, 1, budget);
    const times: number[] = [];
    // Both starts reserved at once, 200 ms apart; by its start, the first caller's request will arrive 80 ms late.
    let asked = 0;
    const lateByItsStart = (): number => (asked++ === 0 ? 0 : 80);
    await Promise.all([lateByItsStart, () => 0].map((delay) => limiter.acquire(undefined, delay).then(() => times.push(monotonicNow()))));
    expect(times[0]).toBeGreaterThanOrEqual(first);
    expect(times[0]).toBeLessThan(first + 200);
    // The budget's next start, a spacing after the one given up.
    expect(times[1]).toBeGreaterThanOrEqual(first + 400);
  });

  it('gives up a reserved start whose window has passed instead of starting late', async () => {
    let asked = 0;
    let second = 0;
    const budget: StartBudget = {
      reserve: async () => {
        asked += 1;
        const now = monotonicNow();
        second = now + 80;
        return {
          starts: [
            { from: now - 100, until: now - 60, allowanceMs: 0 },
            { from: second, until: second + 40, allowanceMs: 0 },
          ],
        };
      },
      pause: async () => undefined,
    };
    const limiter = new StartRateLimiter(3, 0.95, budget);
    await limiter.acquire();
    expect(monotonicNow()).toBeGreaterThanOrEqual(second);
    expect(asked).toBe(1);
  });

  it('makes room after a start whose request will arrive late by giving up the next start it holds', async () => {
    const { budget, first } = backToBackBudget();
    const limiter = new StartRateLimiter(5, 1, budget);
    const times: number[] = [];
    // The second caller will open a new connection: the start after it must be 200 + 80 ms later.
    await Promise.all([0, 80, 0, 0].map((delay) => limiter.acquire(undefined, () => delay).then(() => times.push(monotonicNow()))));
    expect(times[0]).toBeGreaterThanOrEqual(first);
    expect(times[1]).toBeGreaterThanOrEqual(first + 200);
    expect(times[2]).toBeGreaterThanOrEqual(first + 600);
    expect(times[3]).toBeGreaterThanOrEqual(first + 800);
  });
});
