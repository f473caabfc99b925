import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dropFinishedSnapshots, frozenHitCount, frozenQueryHits } from '../../src/load/query-snapshot.js';
import { RunTakenOverError, startOrResumeRun, type RunHandle } from '../../src/load/runs.js';
import { backends, type TestDatabase } from '../support/databases.js';

const CHUNK = 10;

interface Listing {
  search: () => AsyncIterable<number>;
  /** PMIDs handed out so far. */
  listed: () => number;
  /** Whether the search was closed (finished, or stopped by its reader). */
  closed: () => boolean;
  /** Lets a search held at `holdAfter` go on. */
  release: () => void;
}

/** A search listing `pmids` in order; it can fail, or wait, once it handed out some. */
function listing(pmids: number[], options: { failAfter?: number; holdAfter?: number } = {}): Listing {
  let listed = 0;
  let closed = false;
  let release = (): void => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  return {
    async *search() {
      try {
        for (const pmid of pmids) {
          if (listed === options.failAfter) throw new Error('esearch gave up');
          if (listed === options.holdAfter) await held;
          listed += 1;
          yield pmid;
        }
      } finally {
        closed = true;
      }
    },
    listed: () => listed,
    closed: () => closed,
    release: () => release(),
  };
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, index) => from - index);

describe.each(backends)('frozen query hits on $name', (backend) => {
  let database: TestDatabase;
  let run: RunHandle;
  let runs = 0;
  const startRun = async (): Promise<RunHandle> =>
    (await startOrResumeRun(database.db, { job: 'backfill', inputKey: `query:${(runs += 1)}`, params: {} }))!;
  // One database for the file: each test works on runs of its own.
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    run = await startRun();
  });

  async function collect(iterable: AsyncIterable<number>, stopAfter = Infinity): Promise<number[]> {
    const pmids: number[] = [];
    for await (const pmid of iterable) {
      pmids.push(pmid);
      if (pmids.length === stopAfter) break;
    }
    return pmids;
  }

  const chunkSizes = async (): Promise<number[]> => {
    const { rows } = await sql<{ size: number }>`
      SELECT cardinality(pmids) AS size FROM query_snapshot_chunk WHERE run_id = ${run.id} ORDER BY chunk
    `.execute(database.db);
    return rows.map((row) => row.size);
  };

  it('stores the hits in chunks as they are listed, and a resumed run reads that list whatever the search says now', async () => {
    const original = range(40_000_025, 25);
    expect(await collect(frozenQueryHits(database, run, listing(original).search, CHUNK))).toEqual(original);
    expect(await chunkSizes()).toEqual([10, 10, 5]);
    expect(await frozenHitCount(database.db, run.id)).toBe(25);

    const grown = listing([...range(40_000_030, 5), ...original]);
    expect(await collect(frozenQueryHits(database, run, grown.search, CHUNK))).toEqual(original);
    expect(grown.listed()).toBe(0);
  });

  it('keeps the chunks a failed search stored, and on resume adds only the hits they lack', async () => {
    const original = range(40_000_025, 25);
    const failing = listing(original, { failAfter: 23 });
    const read: number[] = [];
    await expect(
      (async () => {
        for await (const pmid of frozenQueryHits(database, run, failing.search, CHUNK)) read.push(pmid);
      })(),
    ).rejects.toThrow('esearch gave up');
    expect(read).toEqual(original.slice(0, 20));
    expect(await chunkSizes()).toEqual([10, 10]);
    expect(await frozenHitCount(database.db, run.id)).toBeUndefined();

    // Three records were added since: PubMed lists them first, shifting every position.
    const added = range(40_000_030, 3);
    const resumed = await collect(frozenQueryHits(database, run, listing([...added, ...original]).search, CHUNK));
    expect(resumed).toEqual([...original.slice(0, 20), ...added, ...original.slice(20)]);
    expect(await chunkSizes()).toEqual([10, 10, 8]);
    expect(await frozenHitCount(database.db, run.id)).toBe(28);
  });

  it('stops the search when the run stops reading, leaving what it stored for the resume', async () => {
    const original = range(40_000_025, 25);
    // The search waits after the first chunk, so the reader stops while the list is incomplete.
    const interrupted = listing(original, { holdAfter: 11 });
    const read: number[] = [];
    for await (const pmid of frozenQueryHits(database, run, interrupted.search, CHUNK)) {
      read.push(pmid);
      if (read.length === 5) {
        // Released only once the reader has stopped the writer (timers run after that).
        setTimeout(interrupted.release, 0);
        break;
      }
    }
    expect(read).toEqual(original.slice(0, 5));
    expect(interrupted.listed()).toBe(12);
    expect(interrupted.closed()).toBe(true);
    expect(await chunkSizes()).toEqual([10]);
    expect(await frozenHitCount(database.db, run.id)).toBeUndefined();

    const resumed = listing(original);
    expect(await collect(frozenQueryHits(database, run, resumed.search, CHUNK))).toEqual(original);
    expect(resumed.listed()).toBe(25);
  });

  it('refuses to extend the list of a run another process took over', async () => {
    await database.db.updateTable('etl_run').set({ replica: 'other:2' }).where('id', '=', run.id).execute();
    await expect(collect(frozenQueryHits(database, run, listing(range(40_000_025, 25)).search, CHUNK))).rejects.toThrow(RunTakenOverError);
    expect(await chunkSizes()).toEqual([]);
  });

  it('drops the lists of finished runs and keeps those a rerun can still resume', async () => {
    const other = await startRun();
    await collect(frozenQueryHits(database, run, listing(range(40_000_025, 25)).search, CHUNK));
    await collect(frozenQueryHits(database, other, listing(range(40_000_025, 5)).search, CHUNK));
    await database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', run.id).execute();
    await database.db.updateTable('etl_run').set({ status: 'failed' }).where('id', '=', other.id).execute();
    await dropFinishedSnapshots(database.db);
    const { rows } = await sql<{ run_id: number }>`
      SELECT run_id FROM query_snapshot WHERE run_id IN (${run.id}, ${other.id}) ORDER BY run_id
    `.execute(database.db);
    expect(rows.map((row) => Number(row.run_id))).toEqual([other.id]);
    const { rows: chunks } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM query_snapshot_chunk WHERE run_id = ${run.id}`.execute(database.db);
    expect(chunks[0]?.n).toBe(0);
  });
});
