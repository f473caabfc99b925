/**
 * NCBI limits request *starts* per second (3, or 10 with an API key), not how many requests are
 * in flight. This limiter hands out start permits in FIFO order under two rules:
 *
 * - window: at most maxRps starts in any window of 1000 / paceFactor ms (1020 ms by default), so
 *   the server, which counts per second, sees at most maxRps even when a request reaches it up to
 *   20 ms sooner or later than planned;
 * - spacing: starts at least half an average gap apart, so a queue of callers (after a 429 pause,
 *   say) goes out spread over the window, not as one burst.
 *
 * A start that happens late (a busy event loop) delays only the start maxRps places after it,
 * not every later one, so the rate stays at the bound. One limiter is shared by every call of a
 * client, retries included. `coolDown(ms)` holds back every waiting and future start: a 429 from
 * NCBI pauses all callers together.
 */

/** Fraction of maxRps actually used: 2 % under the limit absorbs timing jitter. */
export const DEFAULT_PACE_FACTOR = 0.98;
/** Each 429 widens the window by 3 %, up to 15 % in all. */
const WINDOW_GROWTH_PER_429 = 1.03;
const MAX_WINDOW_GROWTH = 1.15;

export class StartRateLimiter {
  /** Starts allowed per window. */
  readonly perWindow: number;
  windowMs: number;
  minGapMs: number;
  private readonly waiters: Array<{ grant: () => void; arrivalDelayMs: (() => number) | undefined }> = [];
  /** Times of the last `perWindow` starts, oldest first. */
  private readonly recentStarts: number[] = [];
  private resumeAt = 0;
  private timer: NodeJS.Timeout | undefined;

  private readonly initialWindowMs: number;

  constructor(maxRps: number, paceFactor = DEFAULT_PACE_FACTOR) {
    if (!(maxRps > 0) || !(paceFactor > 0 && paceFactor <= 1)) {
      throw new RangeError(`rate limiter needs maxRps > 0 and 0 < paceFactor <= 1, got ${maxRps}, ${paceFactor}`);
    }
    // A fractional rate (2.5/s) becomes whole starts over a shorter window (2 per 0.8 s).
    this.perWindow = Math.max(1, Math.floor(maxRps));
    this.windowMs = (1000 * this.perWindow) / maxRps / paceFactor;
    this.minGapMs = this.windowMs / this.perWindow / 2;
    this.initialWindowMs = this.windowMs;
  }

  /**
   * Resolves when this caller may start one request; rejects if `signal` aborts first.
   * `arrivalDelayMs`, asked at the moment of the grant, says how much later than usual this
   * request will reach the server (a request that must open a connection first): the start is
   * counted at that later time, so the starts after it keep their distance where it is measured.
   */
  acquire(signal?: AbortSignal, arrivalDelayMs?: () => number): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        arrivalDelayMs,
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

  /**
   * Holds back every start until `ms` from now (or later, if a longer pause is already set), and
   * widens the window a little: a 429 means the server saw starts closer together than they left
   * (network or scheduling jitter), so the margin was too thin. The window never grows past
   * MAX_WINDOW_GROWTH times its first size.
   */
  coolDown(ms: number): void {
    this.resumeAt = Math.max(this.resumeAt, Date.now() + ms);
    this.windowMs = Math.min(this.windowMs * WINDOW_GROWTH_PER_429, this.initialWindowMs * MAX_WINDOW_GROWTH);
    this.minGapMs = this.windowMs / this.perWindow / 2;
    this.reschedule();
  }

  /** Callers waiting for a permit right now (for progress display). */
  get waiting(): number {
    return this.waiters.length;
  }

  private delayUntilNextStart(now: number): number {
    const last = this.recentStarts[this.recentStarts.length - 1] ?? Number.NEGATIVE_INFINITY;
    const oldest = this.recentStarts.length < this.perWindow ? Number.NEGATIVE_INFINITY : (this.recentStarts[0] as number);
    return Math.max(0, this.resumeAt - now, last + this.minGapMs - now, oldest + this.windowMs - now);
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
      const waiter = this.waiters.shift()!;
      const last = this.recentStarts[this.recentStarts.length - 1] ?? Number.NEGATIVE_INFINITY;
      this.recentStarts.push(Math.max(last, now + (waiter.arrivalDelayMs?.() ?? 0)));
      if (this.recentStarts.length > this.perWindow) this.recentStarts.shift();
      waiter.grant();
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
