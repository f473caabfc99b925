/**
 * NCBI limits request *starts* per second (3, or 10 with an API key), not how many requests are
 * in flight, and does not say how it counts: assume the strictest, a sliding second. This limiter
 * hands out start permits in FIFO order, consecutive starts at least 1000 / (maxRps × paceFactor)
 * ms apart (340 ms at 3 requests/s). Evenly spaced starts put maxRps + 1 arrivals 1000 /
 * paceFactor ms apart at the closest, so a request reaching the server up to 20 ms sooner or later
 * than planned still finds room; starts let out in bursts would not.
 *
 * Each start is taken from a StartBudget: this process's own, or one shared through the database
 * by every process of a deployment. One limiter is shared by every call of a client, retries
 * included. `coolDown(ms)` holds back every waiting and future start, here and, through the
 * budget, in every process sharing it: a 429 from NCBI pauses all callers together.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timerDelayMs } from '../timer-delay.js';
import { LocalStartBudget, type StartBudget } from './start-budget.js';

/** Fraction of maxRps actually used: 2 % under the limit absorbs timing jitter. */
export const DEFAULT_PACE_FACTOR = 0.98;
/** Each 429 widens the spacing by 3 %, up to 15 % in all. */
const SPACING_GROWTH_PER_429 = 1.03;
const MAX_SPACING_GROWTH = 1.15;

interface Waiter {
  grant(): void;
  fail(error: unknown): void;
  arrivalDelayMs: (() => number) | undefined;
}

export class StartRateLimiter {
  /** Least time between two consecutive starts. */
  spacingMs: number;
  private readonly initialSpacingMs: number;
  private readonly waiters: Waiter[] = [];
  private resumeAt = 0;
  private running = false;
  /** Aborted to end the dispatch loop's current pause (see wakeDispatch). */
  private pauseEnd = new AbortController();

  constructor(
    maxRps: number,
    paceFactor = DEFAULT_PACE_FACTOR,
    private readonly budget: StartBudget = new LocalStartBudget(),
  ) {
    if (!(maxRps > 0) || !(paceFactor > 0 && paceFactor <= 1)) {
      throw new RangeError(`rate limiter needs maxRps > 0 and 0 < paceFactor <= 1, got ${maxRps}, ${paceFactor}`);
    }
    this.spacingMs = 1000 / (maxRps * paceFactor);
    this.initialSpacingMs = this.spacingMs;
  }

  /**
   * Resolves when this caller may start one request; rejects if `signal` aborts first, or with
   * the budget's error if the budget cannot be asked. `arrivalDelayMs`, asked as the start is
   * taken, says how much later than usual this request will reach the server (a request that
   * must open a connection first): the next start keeps its distance from that later arrival.
   */
  acquire(signal?: AbortSignal, arrivalDelayMs?: () => number): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      const waiter: Waiter = {
        arrivalDelayMs,
        grant: () => {
          settle();
          resolve();
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        // With nobody left waiting, the dispatch loop's pause must not keep an exiting process alive.
        if (this.waiters.length === 0) this.wakeDispatch();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      if (!this.running) void this.dispatch();
    });
  }

  /**
   * Holds back every start until `ms` from now (or later, if a longer pause is already set), and
   * widens the spacing a little: a 429 means the server saw starts closer together than they left
   * (network or scheduling jitter), so the margin was too thin. The spacing never grows past
   * MAX_SPACING_GROWTH times its first size. Resolves once the budget has passed the pause on;
   * if it cannot, this process holds back all the same.
   */
  coolDown(ms: number): Promise<void> {
    this.resumeAt = Math.max(this.resumeAt, Date.now() + ms);
    this.spacingMs = Math.min(this.spacingMs * SPACING_GROWTH_PER_429, this.initialSpacingMs * MAX_SPACING_GROWTH);
    return this.budget.pause(ms).catch(() => undefined);
  }

  /** Callers waiting for a permit right now (for progress display). */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Grants the head of the queue each start the budget gives, until the queue is empty. */
  private async dispatch(): Promise<void> {
    this.running = true;
    try {
      while (this.waiters.length > 0) {
        const paused = this.resumeAt - Date.now();
        if (paused > 0) {
          await this.pause(paused);
          continue;
        }
        const head = this.waiters[0] as Waiter;
        const arrivalDelayMs = head.arrivalDelayMs?.() ?? 0;
        let waitMs: number;
        try {
          waitMs = await this.budget.take(this.spacingMs + arrivalDelayMs);
        } catch (error) {
          const index = this.waiters.indexOf(head);
          if (index >= 0) this.waiters.splice(index, 1);
          head.fail(error);
          continue;
        }
        if (waitMs > 0) {
          await this.pause(waitMs);
          continue;
        }
        // A start taken while this process began a cool-down is given up.
        if (this.resumeAt > Date.now()) continue;
        // If the head gave up meanwhile, the start goes to whoever is next.
        this.waiters.shift()?.grant();
      }
    } finally {
      this.running = false;
    }
  }

  /** A dispatch pause that `wakeDispatch` ends early. */
  private pause(ms: number): Promise<void> {
    return sleep(timerDelayMs(ms), undefined, { signal: this.pauseEnd.signal }).catch(() => undefined);
  }

  private wakeDispatch(): void {
    this.pauseEnd.abort();
    this.pauseEnd = new AbortController();
  }
}
