/**
 * Where a rate limiter takes its request starts from. NCBI counts starts per API key (or, without
 * one, per address), however many processes send them, so every pubcat process sharing a
 * deployment must draw from one budget: the limiter asks the budget for each start and the budget
 * decides, here in memory for a process alone, or in the database for a deployment
 * (src/load/start-slots.ts).
 *
 * A start is taken when it is free now, or (a budget asked over a network) at most a round trip
 * ahead, never further: nobody holds a claim through a 429 pause or after dying.
 */
import { createHash } from 'node:crypto';

export interface StartBudget {
  /**
   * Resolves to 0 when the caller may start one request now, the next start on this budget being
   * at least `spacingMs` later; otherwise to the ms after which to ask again (nothing was taken).
   */
  take(spacingMs: number): Promise<number>;
  /** Holds back every start on this budget until `ms` from now (or later, if already paused longer). */
  pause(ms: number): Promise<void>;
}

/** The budget of a process that shares NCBI's limit with nobody (the embedded database). */
export class LocalStartBudget implements StartBudget {
  private nextFreeAt = Number.NEGATIVE_INFINITY;

  take(spacingMs: number): Promise<number> {
    const now = Date.now();
    if (now < this.nextFreeAt) return Promise.resolve(this.nextFreeAt - now);
    this.nextFreeAt = now + spacingMs;
    return Promise.resolve(0);
  }

  pause(ms: number): Promise<void> {
    this.nextFreeAt = Math.max(this.nextFreeAt, Date.now() + ms);
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
