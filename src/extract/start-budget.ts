/**
 * Where a rate limiter takes its request starts from. NCBI counts starts per API key (or, without
 * one, per address), however many processes send them, so every pubcat process sharing a
 * deployment must draw from one budget: the limiter reserves starts from the budget and the
 * budget decides, here in memory for a process alone, or in the database for a deployment
 * (src/load/start-slots.ts).
 *
 * Reserved starts lie on one grid: consecutive starts of the budget, whichever process reserved
 * them, are at least their gap apart, and each may go only within a short window after its time
 * (`lateMs`, set by the limiter). A start that missed its window is given up, never taken late, so
 * lateness never brings two starts closer than their gap minus that window. Reservations reach at
 * most about a second ahead: a process that dies or is paused holds nothing for longer.
 */
import { createHash } from 'node:crypto';

/** One reserved start: it may go from `from` until `until` (ms on `monotonicNow`'s clock). */
export interface ReservedStart {
  from: number;
  until: number;
  /** The part of the gap after this start reserved for a late arrival (see `reserve`). */
  allowanceMs: number;
}

export type Reservation = { starts: ReservedStart[] } | { retryInMs: number };

export interface ReservationRequest {
  /** One gap per start asked for: the least time from that start to the budget's next one. */
  gapsMs: readonly number[];
  /** The part of the first gap that is extra room for a late arrival of the first start. */
  allowanceMs: number;
  /** How late after its time a start may still go. */
  lateMs: number;
}

export interface StartBudget {
  /**
   * Reserves up to `gapsMs.length` consecutive starts. Resolves to the starts reserved (at least
   * one, earliest first), or to the ms after which to ask again (nothing was reserved).
   */
  reserve(request: ReservationRequest): Promise<Reservation>;
  /** Holds back every start on this budget until `ms` from now (or later, if already paused longer). */
  pause(ms: number): Promise<void>;
}

/** This process's clock, in ms since the epoch: monotonic, so that no step of the system clock moves it. */
export const monotonicNow = (): number => performance.timeOrigin + performance.now();

/**
 * The budget of a process that shares NCBI's limit with nobody (the embedded database). It gives
 * one start at a time, when it is free: asking costs nothing, so it never needs to reserve ahead.
 */
export class LocalStartBudget implements StartBudget {
  private nextFreeAt = Number.NEGATIVE_INFINITY;

  reserve({ gapsMs, allowanceMs, lateMs }: ReservationRequest): Promise<Reservation> {
    const now = monotonicNow();
    if (now < this.nextFreeAt) return Promise.resolve({ retryInMs: this.nextFreeAt - now });
    this.nextFreeAt = now + (gapsMs[0] ?? 0);
    return Promise.resolve({ starts: [{ from: now, until: now + lateMs, allowanceMs }] });
  }

  pause(ms: number): Promise<void> {
    this.nextFreeAt = Math.max(this.nextFreeAt, monotonicNow() + ms);
    return Promise.resolve();
  }
}

/**
 * What NCBI counts a start against: the E-utilities host, and the API key (as a short
 * fingerprint, so the key itself is never stored) or its absence. Without a key NCBI counts per
 * address; pubcat cannot tell whether its processes share one, so it assumes they do.
 */
export function startBudgetKey(baseUrl: string, apiKey: string | undefined): string {
  const origin = new URL(baseUrl).origin;
  if (apiKey === undefined) return `${origin} without key`;
  return `${origin} key ${createHash('sha256').update(apiKey).digest('hex').slice(0, 12)}`;
}
