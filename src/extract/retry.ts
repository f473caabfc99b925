/**
 * When and how long to wait before asking NCBI again. Transient failures are the norm (see the
 * research notes: 5xx proxies, 200 bodies with <ERROR>, truncated XML), so almost everything is
 * retried; only answers that cannot change on a second try (403, 404, 414, …) are final.
 */

export interface BackoffPolicy {
  /** Attempts per call, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt; doubles for each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so callers that
 * failed together do not come back together, yet every wait grows.
 */
export function backoffDelayMs(policy: BackoffPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return step / 2 + (step / 2) * random();
}

/** One attempt went wrong in a way a later attempt may not: the caller may try again. */
export class TransientError extends Error {
  /** Set for 429: how long NCBI asked everyone to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransientError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** An answer no retry will change: a status such as 403, 404 or 414, or a body too large to parse. */
export class FinalHttpError extends Error {}

/** Statuses worth another try: throttling, NCBI's proxies and backends, its sporadic 400s. */
export function isRetryableStatus(status: number): boolean {
  return status === 400 || status === 408 || status === 429 || status >= 500;
}

/**
 * `Retry-After` is either delta-seconds or an HTTP date. Falls back when absent or unreadable
 * (NCBI's observed block is about 2 s).
 */
export function parseRetryAfterMs(header: string | undefined, fallbackMs: number, now = Date.now()): number {
  if (header === undefined || header.trim() === '') return fallbackMs;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - now);
}
