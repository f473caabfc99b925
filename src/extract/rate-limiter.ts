/**
 * NCBI limits request *starts* per second (3, or 10 with an API key), not how many requests are
 * in flight. This limiter hands out start permits in FIFO order, evenly spaced slightly further
 * apart than 1/maxRps: with a gap of 1000 / (maxRps × paceFactor) ms, maxRps + 1 starts span more
 * than one second, so no 1-second window ever holds more than maxRps starts, and bursts (which
 * NCBI's own counter tends to see as one start too many) never happen.
 *
 * One limiter is shared by every call of a client, retries included. A 429 cools everyone down
 * together: `coolDown(ms)` holds back every waiting and future start until the pause is over.
 */

/** Fraction of maxRps actually used: 2 % under the limit absorbs clock and network jitter. */
export const DEFAULT_PACE_FACTOR = 0.98;

export class StartRateLimiter {
  readonly minGapMs: number;
  private readonly waiters: Array<{ grant: () => void }> = [];
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private resumeAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(maxRps: number, paceFactor = DEFAULT_PACE_FACTOR) {
    if (!(maxRps > 0) || !(paceFactor > 0 && paceFactor <= 1)) {
      throw new RangeError(`rate limiter needs maxRps > 0 and 0 < paceFactor <= 1, got ${maxRps}, ${paceFactor}`);
    }
    this.minGapMs = 1000 / (maxRps * paceFactor);
  }

  /** Resolves when this caller may start one request; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Holds back every start until `ms` from now (or later, if a longer pause is already set). */
  coolDown(ms: number): void {
    this.resumeAt = Math.max(this.resumeAt, Date.now() + ms);
    this.reschedule();
  }

  /** Callers waiting for a permit right now (for progress display). */
  get waiting(): number {
    return this.waiters.length;
  }

  private delayUntilNextStart(now: number): number {
    return Math.max(0, this.resumeAt - now, this.lastStartAt + this.minGapMs - now);
  }

  private pump(): void {
    if (this.timer !== undefined) return;
    while (this.waiters.length > 0) {
      const now = Date.now();
      const delay = this.delayUntilNextStart(now);
      if (delay > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.ceil(delay));
        return;
      }
      this.lastStartAt = now;
      this.waiters.shift()?.grant();
    }
  }

  private reschedule(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pump();
  }
}
