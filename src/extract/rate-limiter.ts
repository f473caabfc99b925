/**
 * NCBI limits request *starts* per second (3, or 10 with an API key), not how many requests are
 * in flight, and does not say how it counts: assume the strictest, a sliding second. This limiter
 * hands out start permits in FIFO order, consecutive starts at least 1000 / (maxRps × paceFactor)
 * ms apart (351 ms at 3 requests/s). Evenly spaced starts put maxRps + 1 arrivals 1000 /
 * paceFactor ms apart at the closest (1053 ms), so the 53 ms to spare in a sliding second absorb
 * a start let out late (a third of it, the most a reserved start may be late) and a request
 * reaching the server later than it left (the rest); starts let out in bursts would not.
 *
 * Starts are reserved from a StartBudget: this process's own, or one shared through the database
 * by every process of a deployment. With callers waiting, the limiter reserves up to a second's
 * worth of starts in one go (one round trip for several starts), asks for the next ones before
 * the last of them is used (the next start known before it is due), lets each out within its
 * window, and gives up one it missed (a busy event loop) rather than start it late. One limiter
 * is shared by every call of a client, retries included. `coolDown(ms)` holds back every waiting
 * and future start, here and, through the budget, in every process sharing it: a 429 from NCBI
 * pauses all callers together.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timerDelayMs } from '../timer-delay.js';
import { LocalStartBudget, type ReservedStart, type StartBudget, monotonicNow } from './start-budget.js';

/**
 * Fraction of maxRps actually used. 5 % under the limit: on a busy host a start is let out tens
 * of ms late and a request reaches the server tens of ms later than it left; with 2 % (20 ms in a
 * sliding second) a busy host drew 429s, and gave up half its starts as too late.
 */
export const DEFAULT_PACE_FACTOR = 0.95;
/** Each 429 widens the spacing by 3 %, up to 15 % in all. */
const SPACING_GROWTH_PER_429 = 1.03;
const MAX_SPACING_GROWTH = 1.15;
/** The least window a reserved start has to go in. */
const MIN_LATE_MS = 5;
/** How far ahead one reservation reaches at most: starts for about a second. */
const RESERVATION_SPAN_MS = 1000;

interface Waiter {
  grant(): void;
  fail(error: unknown): void;
  arrivalDelayMs: (() => number) | undefined;
}

export class StartRateLimiter {
  /** Least time between two consecutive starts. */
  spacingMs: number;
  private readonly maxRps: number;
  private readonly initialSpacingMs: number;
  private readonly waiters: Waiter[] = [];
  /** Starts reserved from the budget and not yet let out, earliest first. */
  private reserved: ReservedStart[] = [];
  /** The reservation being asked for, if any: one at a time. */
  private reserving: Promise<void> | undefined;
  /** When the budget said a reservation could be asked for again. */
  private askAgainAt = 0;
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
    this.maxRps = maxRps;
    this.spacingMs = 1000 / (maxRps * paceFactor);
    this.initialSpacingMs = this.spacingMs;
  }

  /**
   * How late a reserved start may still go: a third of what maxRps + 1 evenly spaced starts leave
   * to spare in a sliding second (18 ms at the default pace), the rest being for the way to the
   * server; at least a few ms, so that a limiter paced at the limit itself can still let its
   * starts out. Measured with three processes on two busy cores, a start was let out more than
   * 18 ms late once in 180, and a request reached the server up to 40 ms after it left: with half
   * the margin each, the two together drew a 429 in two runs of five.
   */
  private get lateMs(): number {
    return Math.max(MIN_LATE_MS, (this.maxRps * this.spacingMs - 1000) / 3);
  }

  /**
   * How late an arrival may be without room reserved for it: a sixth of what maxRps + 1 evenly
   * spaced starts leave to spare in a sliding second (9 ms at the default pace), a quarter of the
   * share kept for the way to the server. Opening a connection to a nearby host takes a few ms,
   * and giving up a reserved start to make room for that would cost a whole spacing.
   */
  private get absorbedDelayMs(): number {
    return Math.max(0, (this.maxRps * this.spacingMs - 1000) / 6);
  }

  /** How much later than usual the waiter's request will arrive, beyond what the margin absorbs. */
  private extraArrivalMs(waiter: Waiter): number {
    const delayMs = waiter.arrivalDelayMs?.() ?? 0;
    return delayMs <= this.absorbedDelayMs ? 0 : delayMs;
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
      if (!this.running) {
        // Callers that ask in one go (a batch's requests) are reserved for together.
        this.running = true;
        queueMicrotask(() => void this.dispatch());
      }
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
    this.resumeAt = Math.max(this.resumeAt, monotonicNow() + ms);
    // Starts reserved before the 429 are given up: the pause holds them back too.
    this.reserved = [];
    this.spacingMs = Math.min(this.spacingMs * SPACING_GROWTH_PER_429, this.initialSpacingMs * MAX_SPACING_GROWTH);
    return this.budget.pause(ms).catch(() => undefined);
  }

  /** Callers waiting for a permit right now (for progress display). */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Grants the head of the queue each start reserved from the budget, until the queue is empty.
   * While callers wait beyond the starts reserved, the next reservation is asked for alongside:
   * the budget says when it is near enough, and its answer is then in before the last reserved
   * start is used, so that no start of the schedule idles while this process asks the database.
   */
  private async dispatch(): Promise<void> {
    this.running = true;
    try {
      while (this.waiters.length > 0) {
        const paused = this.resumeAt - monotonicNow();
        if (paused > 0) {
          await this.pause(paused);
          continue;
        }
        // Starts whose window has passed are given up (see start-budget.ts).
        while (this.reserved.length > 0 && (this.reserved[0] as ReservedStart).until < monotonicNow()) this.reserved.shift();
        const wanted = (): boolean => this.waiters.length > this.reserved.length && this.reserving === undefined;
        if (wanted() && this.askAgainAt <= monotonicNow()) {
          this.reserving = this.reserve().finally(() => {
            this.reserving = undefined;
            this.wakeDispatch();
          });
        }
        // A reservation being asked for ends the pause when its answer comes.
        const askIn = wanted() ? this.askAgainAt - monotonicNow() : Number.POSITIVE_INFINITY;
        const next = this.reserved[0];
        if (next === undefined) {
          await this.pause(askIn);
          continue;
        }
        const early = next.from - monotonicNow();
        if (early > 0) {
          await this.pause(Math.min(early, askIn));
          continue;
        }
        const head = this.waiters[0] as Waiter;
        if (!this.roomForArrival(this.extraArrivalMs(head))) continue;
        this.reserved.shift();
        this.waiters.shift()?.grant();
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Reserves starts for the waiters beyond those already reserved: as many as wait, up to
   * RESERVATION_SPAN_MS worth counting the start before them if one is still held, or one alone
   * when its caller's request will arrive late (its gap needs the allowance). A budget that fails
   * fails the first caller without a start; one that has no start yet says when to ask again.
   */
  private async reserve(): Promise<void> {
    const held = this.reserved.length;
    const first = this.waiters[held] as Waiter;
    const allowanceMs = this.extraArrivalMs(first);
    const span = Math.floor(RESERVATION_SPAN_MS / this.spacingMs) - (held > 0 ? 1 : 0);
    const count = allowanceMs > 0 ? 1 : Math.max(1, Math.min(this.waiters.length - held, span));
    const gapsMs = Array.from({ length: count }, (_, index) => this.spacingMs + (index === 0 ? allowanceMs : 0));
    const askedAt = monotonicNow();
    let reservation;
    try {
      reservation = await this.budget.reserve({ gapsMs, allowanceMs, lateMs: this.lateMs });
    } catch (error) {
      const failed = this.waiters[Math.min(this.reserved.length, this.waiters.length - 1)];
      if (failed === undefined) return;
      this.waiters.splice(this.waiters.indexOf(failed), 1);
      failed.fail(error);
      return;
    }
    if ('retryInMs' in reservation) {
      this.askAgainAt = monotonicNow() + reservation.retryInMs;
      return;
    }
    // A cool-down begun meanwhile has given up everything reserved before it.
    if (this.resumeAt > askedAt) return;
    this.reserved.push(...reservation.starts);
  }

  /**
   * Whether the first reserved start can carry a request arriving `delayMs` late: the gap after it
   * must grow by that much. If this process holds a later start far enough off, those in between
   * are given up. If it holds later starts but none far enough, they are: the budget's next start
   * is a spacing after the last of them, clear of an arrival up to a spacing late. If it holds
   * none, the first is given up, and the next reservation makes room.
   */
  private roomForArrival(delayMs: number): boolean {
    const first = this.reserved[0] as ReservedStart;
    if (delayMs <= first.allowanceMs) return true;
    const clearOf = first.from + this.spacingMs + delayMs;
    const later = this.reserved.findIndex((start, index) => index > 0 && start.from >= clearOf);
    if (later < 0 && this.reserved.length > 1 && delayMs <= this.spacingMs) {
      this.reserved.splice(1);
      return true;
    }
    if (later < 0) {
      this.reserved.shift();
      return false;
    }
    this.reserved.splice(1, later - 1);
    return true;
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
