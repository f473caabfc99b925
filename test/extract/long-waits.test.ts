import { afterEach, describe, expect, it } from 'vitest';
import { StartRateLimiter } from '../../src/extract/rate-limiter.js';
import type { StartBudget } from '../../src/extract/start-budget.js';

/** A wait longer than a Node timer holds (about 35 days): Node would fire it after 1 ms. */
const OVERLONG_MS = 3_000_000_000;

describe('waits longer than a timer can hold', () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning.name);
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('asks a budget that answers "wait 35 days" once, rather than again every millisecond', async () => {
    process.on('warning', onWarning);
    let asked = 0;
    const budget: StartBudget = {
      reserve: async () => {
        asked += 1;
        return { retryInMs: OVERLONG_MS };
      },
      pause: async () => undefined,
    };
    const limiter = new StartRateLimiter(3, 0.98, budget);
    await expect(limiter.acquire(AbortSignal.timeout(300))).rejects.toThrow();
    expect(asked).toBe(1);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('waits out a Retry-After of 35 days without a timer overflowing into a spin', async () => {
    process.on('warning', onWarning);
    const limiter = new StartRateLimiter(3);
    await limiter.coolDown(OVERLONG_MS);
    await expect(limiter.acquire(AbortSignal.timeout(300))).rejects.toThrow();
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});
