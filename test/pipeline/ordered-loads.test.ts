import { describe, expect, it } from 'vitest';
import { OrderedLoads, type LoadTurn } from '../../src/pipeline/ordered-loads.js';

/** A promise settled from outside, to decide the order work finishes in. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Loads that log when they open, and commit (write their checkpoint) once the previous one committed. */
function recordingLoads(inFlight: number, options: { failing?: number; failBeforeBegin?: boolean } = {}) {
  const log: string[] = [];
  const loads = new OrderedLoads<number>({
    inFlight,
    loadsAtOnce: 2,
    load: async (item: number, turn: LoadTurn) => {
      if (item === options.failing && options.failBeforeBegin === true) throw new Error(`load ${item} failed`);
      log.push(`open ${item}`);
      turn.began();
      if (item === options.failing) throw new Error(`load ${item} failed`);
      await turn.previousDone;
      log.push(`commit ${item}`);
    },
  });
  return { log, loads };
}

describe('ordered loads', () => {
  it('commits in the order work was added, although the work finishes in reverse', async () => {
    const { log, loads } = recordingLoads(10);
    const works = [1, 2, 3].map(() => deferred<number>());
    for (const work of works) await loads.add(work.promise);
    const finished = loads.finish();
    works[2]!.resolve(3);
    works[1]!.resolve(2);
    await tick();
    expect(log).toEqual([]);
    works[0]!.resolve(1);
    await finished;
    expect(log.filter((entry) => entry.startsWith('commit'))).toEqual(['commit 1', 'commit 2', 'commit 3']);
  });

  it('holds the caller back while the work waiting and the loads under way are at their limits', async () => {
    const { log, loads } = recordingLoads(1);
    const first = deferred<number>();
    await loads.add(first.promise);
    let added = false;
    const adding = loads.add(Promise.resolve(2)).then(() => (added = true));
    await tick();
    expect(added).toBe(false);
    first.resolve(1);
    await adding;
    await loads.finish();
    expect(log).toContain('commit 1');
    expect(log).toContain('commit 2');
  });

  it('never commits a load after one that failed, and reports the first failure', async () => {
    const { log, loads } = recordingLoads(10, { failing: 2 });
    for (const item of [1, 2, 3]) await loads.add(Promise.resolve(item));
    await expect(loads.finish()).rejects.toThrow('load 2 failed');
    await loads.settled();
    expect(log).toContain('commit 1');
    expect(log).toContain('open 3');
    expect(log).not.toContain('commit 3');
  });

  it('lets the next load begin when one fails before opening its transaction', async () => {
    const { log, loads } = recordingLoads(10, { failing: 1, failBeforeBegin: true });
    for (const item of [1, 2]) await loads.add(Promise.resolve(item));
    await expect(loads.finish()).rejects.toThrow('load 1 failed');
    await loads.settled();
    expect(log).toEqual(['open 2']);
  });

  it('reports failed work at its turn to load, with nothing after it committed', async () => {
    const { log, loads } = recordingLoads(10);
    await loads.add(Promise.resolve(1));
    await loads.add(Promise.reject(new Error('fetch failed')));
    await loads.add(Promise.resolve(3));
    await expect(loads.finish()).rejects.toThrow('fetch failed');
    await loads.settled();
    expect(log).toContain('commit 1');
    expect(log).not.toContain('commit 3');
  });
});
