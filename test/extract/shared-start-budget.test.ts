import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StartRateLimiter } from '../../src/extract/rate-limiter.js';
import { startBudgetKey } from '../../src/extract/start-budget.js';
import { type CatalogueDatabase, openDatabase } from '../../src/load/db.js';
import { DatabaseStartBudget } from '../../src/load/start-slots.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';

let budgets = 0;
/** A budget of its own for each test, so that tests can share one database. */
const newBudgetKey = (apiKey?: string): string => startBudgetKey(`http://127.0.0.1:${(budgets += 1)}/entrez/eutils/`, apiKey);
/** A shared test machine delays timers by tens of ms: 10 % under the limit keeps the check about the budget. */
const PACE = 0.9;
const RPS = 6;

/** The most starts less than 1000 ms apart, as a sliding second counts them. */
function mostInAnySecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while ((sorted[last] as number) - (sorted[first] as number) >= 1000) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe.skipIf(postgresBackend === undefined)('one NCBI start budget shared through PostgreSQL', () => {
  let database: TestDatabase | undefined;
  const processes: CatalogueDatabase[] = [];

  /** What one pubcat process would build: its own connection pool, and a limiter on the shared budget. */
  async function startProcess(rps: number, key: string): Promise<{ limiter: StartRateLimiter; connection: CatalogueDatabase }> {
    const connection = await openDatabase({ databaseUrl: database!.env.DATABASE_URL, dataDir: 'unused', poolSize: 2 });
    processes.push(connection);
    return { limiter: new StartRateLimiter(rps, PACE, new DatabaseStartBudget(connection.db, key)), connection };
  }

  beforeAll(async () => {
    database = await postgresBackend!.open();
  });

  afterEach(async () => {
    await Promise.all(processes.splice(0).map((connection) => connection.close()));
  });

  afterAll(async () => {
    await database?.close();
  });

  it.each([1, 2, 3])('%i process(es) sharing one budget never start more than the rate in any sliding second, and use at least 0.9 of it', async (count) => {
    const key = newBudgetKey();
    const limiters = await Promise.all(Array.from({ length: count }, () => startProcess(RPS, key)));
    const starts: number[] = [];
    await Promise.all(
      limiters.flatMap(({ limiter }) => Array.from({ length: 12 / count }, () => limiter.acquire().then(() => starts.push(Date.now())))),
    );
    expect(starts).toHaveLength(12);
    expect(mostInAnySecond(starts)).toBeLessThanOrEqual(RPS);
    const rate = ((starts.length - 1) * 1000) / (Math.max(...starts) - Math.min(...starts));
    expect(rate / (RPS * PACE)).toBeGreaterThanOrEqual(0.9);
    expect(rate / (RPS * PACE)).toBeLessThanOrEqual(1.02);
  });

  it('holds back every process for a cool-down one of them started after a 429', async () => {
    const key = newBudgetKey();
    const [first, second] = [await startProcess(RPS, key), await startProcess(RPS, key)];
    await first.limiter.acquire();
    await first.limiter.coolDown(600);
    const started = Date.now();
    await second.limiter.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(Date.now() - started).toBeLessThan(600 + 1000 / (RPS * PACE) + 400);
    const { rows } = await sql<{ paused: boolean }>`SELECT paused_until IS NOT NULL AS paused FROM ncbi_start_slot WHERE budget = ${key}`.execute(
      second.connection.db,
    );
    expect(rows).toEqual([{ paused: true }]);
  });

  it('leaves no claim behind a process that dies: the next start is free one spacing after its last', async () => {
    const key = newBudgetKey();
    const dying = await startProcess(1, key);
    await dying.limiter.acquire();
    const lastStart = Date.now();
    await dying.connection.close();
    processes.splice(processes.indexOf(dying.connection), 1);
    const survivor = await startProcess(RPS, key);
    await Promise.all([survivor.limiter.acquire(), survivor.limiter.acquire(), survivor.limiter.acquire()]);
    expect(Date.now() - lastStart).toBeLessThan(1000 / PACE + (2 * 1000) / (RPS * PACE) + 500);
  });

  it('reserves several starts in one round trip, and another process none of them until the last is near', async () => {
    const key = newBudgetKey();
    const [first, second] = [await startProcess(RPS, key), await startProcess(RPS, key)];
    const firstBudget = new DatabaseStartBudget(first.connection.db, key);
    const secondBudget = new DatabaseStartBudget(second.connection.db, key);
    const reserved = await firstBudget.reserve({ gapsMs: [200, 200, 200], allowanceMs: 0, lateMs: 20 });
    expect('starts' in reserved && reserved.starts.map((start) => Math.round(start.from - reserved.starts[0]!.from))).toEqual([0, 200, 400]);
    const refused = await secondBudget.reserve({ gapsMs: [200], allowanceMs: 0, lateMs: 20 });
    // Free 600 ms after the first start; asked for at most 250 ms and one spacing (200 ms) before that.
    expect('retryInMs' in refused && refused.retryInMs).toBeGreaterThan(100);
  });

  it('lets a process holding a start reserve the next one before using it, one spacing after it, and no further ahead', async () => {
    const key = newBudgetKey();
    const { connection } = await startProcess(RPS, key);
    const budget = new DatabaseStartBudget(connection.db, key);
    const request = { gapsMs: [300], allowanceMs: 0, lateMs: 20 };
    // Read on the database's clock: each start's local time also carries that reservation's
    // round trip, which a busy machine stretches by tens of ms.
    const nextFreeMs = async (): Promise<number> =>
      (await sql<{ ms: number }>`SELECT (extract(epoch FROM next_slot) * 1000)::float8 AS ms FROM ncbi_start_slot WHERE budget = ${key}`.execute(connection.db))
        .rows[0]!.ms;
    const held = await budget.reserve(request);
    const afterHeld = await nextFreeMs();
    const next = await budget.reserve(request);
    expect('starts' in held && 'starts' in next).toBe(true);
    expect((await nextFreeMs()) - afterHeld).toBeCloseTo(300, 3);
    // The start now held last is 300 ms off, further than a process asks ahead (at most 250 ms).
    expect('retryInMs' in (await budget.reserve(request))).toBe(true);
  });

  it('keeps budgets of different API keys apart, as NCBI counts them apart', async () => {
    const unkeyedKey = newBudgetKey();
    const keyed = await startProcess(1, startBudgetKey(`http://127.0.0.1:${budgets}/entrez/eutils/`, 'an-api-key'));
    const unkeyed = await startProcess(1, unkeyedKey);
    await keyed.limiter.acquire();
    const started = Date.now();
    await unkeyed.limiter.acquire();
    // Well under the 1,111 ms the keyed process's start would hold a shared budget.
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('gives pubcat_reader no access to the start slots', async () => {
    const readerUrl = new URL(database!.env.DATABASE_URL!);
    readerUrl.username = 'pubcat_reader';
    readerUrl.password = '';
    const reader = new pg.Client({ connectionString: readerUrl.toString() });
    await reader.connect();
    try {
      await expect(reader.query(`UPDATE ncbi_start_slot SET next_slot = now()`)).rejects.toThrow(/permission denied for table ncbi_start_slot/);
      await expect(reader.query(`INSERT INTO ncbi_start_slot (budget) VALUES ('x')`)).rejects.toThrow(/permission denied/);
      await expect(reader.query('SELECT * FROM ncbi_start_slot')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
  });
});
