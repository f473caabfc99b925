/**
 * The one door to NCBI E-utilities. Every call goes through one start-rate limiter, is POSTed
 * over a keep-alive HTTP/1.1 pool with `tool`, `email` and `api_key`, and is retried (backoff
 * with jitter, a per-attempt timeout, a total deadline) until its body is complete and readable.
 *
 * A call succeeds only when the caller's `read` accepts the body: `read` checks the body is the
 * complete document it expects (and may cut it up); anything it throws counts as a bad answer and
 * is retried like a 503. The API key is never put in a URL, a log line or an error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { EutilsError, EutilsUnreachableError } from '../errors.js';
import { ConnectTimer } from './connect-timer.js';
import { StartRateLimiter } from './rate-limiter.js';
import type { StartBudget } from './start-budget.js';
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  FinalHttpError,
  TransientError,
  backoffDelayMs,
  isRetryableStatus,
  parseRetryAfterMs,
} from './retry.js';
import { OversizeResponseError, readBody, responseCapBytes } from './response-body.js';
import { checkErrorBody } from './response-checks.js';
import { decodeBody } from './decode-body.js';

export type EutilsUtility = 'efetch' | 'esearch' | 'esummary';
export type EutilsParams = Record<string, string | number>;

export interface EutilsClientOptions {
  /** E-utilities root, e.g. `https://eutils.ncbi.nlm.nih.gov/entrez/eutils/`. */
  baseUrl: string;
  /** Sent as `tool` (no spaces), as NCBI asks. */
  tool: string;
  email?: string;
  apiKey?: string;
  /** Request starts per second; default 3, or 10 with an API key. */
  maxRps?: number;
  /** Share of maxRps actually used (default 0.95). */
  paceFactor?: number;
  /** Where request starts come from when other processes share NCBI's limit (default: this process's own). */
  startBudget?: StartBudget;
  /** Keep-alive connections, i.e. the most requests in flight (default 32). */
  connections?: number;
  /** One attempt, from sending to the last body byte, however slowly it comes (default 120 s). */
  requestTimeoutMs?: number;
  /** One call, all attempts, limiter waits and backoff included (default 10 min). */
  deadlineMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /**
   * The most body bytes, after decompression, ever accepted (default 256 MiB); the cap used is
   * lower when this process's heap could not parse that much (see responseCapBytes).
   */
  maxResponseBytes?: number;
  /** Wait after a 429 that carries no `Retry-After` (default 2 s). */
  defaultRetryAfterMs?: number;
  /** The longest wait a `Retry-After` may impose; a longer one is cut to it (default 120 s). */
  maxRetryAfterMs?: number;
  logger?: Logger;
}

/** Running totals, for progress display and for tests. */
export interface EutilsStats {
  /** Attempts started (every one passed the rate limiter). */
  requests: number;
  /** Attempts after the first of their call. */
  retries: number;
  /** Answers with HTTP 429. */
  rateLimited: number;
  /** Calls given up after every attempt. */
  failures: number;
  /** Body bytes received (after decompression). */
  bytes: number;
  /** Answers with bytes invalid in their encoding, read with U+FFFD in their place. */
  invalidEncoding: number;
}

export interface CallOptions {
  /** Overrides the policy's attempt count (a split half of a failed batch gets fewer). */
  maxAttempts?: number;
  /**
   * Gives the call up: the wait for the limiter, a backoff or `Retry-After` pause, and a request
   * with its body all end when it aborts, and the call rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/** An attempt that got no HTTP answer at all: refused, unresolvable, or no response headers in time. */
class NoAnswerError extends TransientError {}

export class EutilsClient {
  readonly stats: EutilsStats = { requests: 0, retries: 0, rateLimited: 0, failures: 0, bytes: 0, invalidEncoding: 0 };
  readonly limiter: StartRateLimiter;
  readonly logger: Logger | undefined;
  private readonly pool: Pool;
  private readonly connects = new ConnectTimer();
  private readonly pathPrefix: string;
  /** Scheme, host and port of E-utilities, for messages. */
  private readonly origin: string;
  private readonly backoff: BackoffPolicy;
  private readonly requestTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly maxResponseBytes: number;
  private readonly defaultRetryAfterMs: number;
  private readonly maxRetryAfterMs: number;

  constructor(private readonly options: EutilsClientOptions) {
    const url = new URL(options.baseUrl);
    this.pathPrefix = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    this.origin = url.origin;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
    this.deadlineMs = options.deadlineMs ?? 600_000;
    this.maxResponseBytes = responseCapBytes(options.maxResponseBytes ?? 256 * 1024 * 1024);
    this.defaultRetryAfterMs = options.defaultRetryAfterMs ?? 2000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.logger = options.logger;
    this.limiter = new StartRateLimiter(options.maxRps ?? (options.apiKey ? 10 : 3), options.paceFactor, options.startBudget);
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 32,
      pipelining: 1,
      connect: this.connects.connect,
      headersTimeout: this.requestTimeoutMs,
      bodyTimeout: this.requestTimeoutMs,
    });
  }

  efetch<T>(params: EutilsParams, read: (body: string) => T, options?: CallOptions): Promise<T> {
    return this.call('efetch', { retmode: 'xml', ...params }, read, options);
  }

  esearch<T>(params: EutilsParams, read: (body: string) => T, options?: CallOptions): Promise<T> {
    return this.call('esearch', params, read, options);
  }

  esummary<T>(params: EutilsParams, read: (body: string) => T, options?: CallOptions): Promise<T> {
    return this.call('esummary', params, read, options);
  }

  /** Asks until `read` accepts an answer, or throws EutilsError with the last reason. */
  async call<T>(utility: EutilsUtility, params: EutilsParams, read: (body: string) => T, options: CallOptions = {}): Promise<T> {
    const maxAttempts = options.maxAttempts ?? this.backoff.maxAttempts;
    const deadline = AbortSignal.timeout(this.deadlineMs);
    const { signal } = options;
    signal?.throwIfAborted();
    const form = this.formBody(params);
    let lastError: unknown;
    let attempt = 0;
    let answered = false;
    // Every wait ends at the deadline or as soon as the caller gives the call up. Listeners, not
    // AbortSignal.any: on Node 20 a signal that lives as long as a run would keep every call's.
    const waits = new AbortController();
    const endWaits = (): void => waits.abort();
    deadline.addEventListener('abort', endWaits, { once: true });
    signal?.addEventListener('abort', endWaits, { once: true });
    try {
      while (attempt < maxAttempts && !deadline.aborted) {
        attempt += 1;
        if (attempt > 1) this.stats.retries += 1;
        try {
          await this.limiter.acquire(waits.signal, this.connectAllowanceMs);
          this.stats.requests += 1;
          return read(await this.send(utility, form, waits.signal));
        } catch (error) {
          signal?.throwIfAborted();
          lastError = deadline.aborted ? new TransientError(`deadline of ${this.deadlineMs} ms passed`, { cause: error }) : error;
          if (!(error instanceof NoAnswerError)) answered = true;
          if (error instanceof FinalHttpError || attempt >= maxAttempts || deadline.aborted) break;
          const retryAfterMs = error instanceof TransientError ? error.retryAfterMs : undefined;
          // The limiter holds this process back at once; telling the other processes may finish later.
          if (retryAfterMs !== undefined) void this.limiter.coolDown(retryAfterMs);
          const delayMs = retryAfterMs === undefined ? backoffDelayMs(this.backoff, attempt) : 0;
          this.logger?.warn(
            { utility, attempt, delayMs: Math.round(delayMs), reason: this.reasonOf(error) },
            'E-utilities request failed; retrying',
          );
          try {
            await sleep(delayMs, undefined, { signal: waits.signal });
          } catch {
            signal?.throwIfAborted();
            break;
          }
        }
      }
    } finally {
      deadline.removeEventListener('abort', endWaits);
      signal?.removeEventListener('abort', endWaits);
    }
    this.stats.failures += 1;
    const reason = this.reasonOf(lastError);
    if (!answered) {
      throw new EutilsUnreachableError(
        `cannot reach NCBI E-utilities at ${this.origin} (${attempt} attempt${attempt === 1 ? '' : 's'}, last: ${reason}); ` +
          'check the network, or EUTILS_BASE_URL if it is set, then run the same command again to resume',
        { input: { utility, params: this.describe(params) }, cause: lastError },
      );
    }
    throw new EutilsError(`${utility} failed after ${attempt} attempt(s): ${reason}`, {
      input: { utility, params: this.describe(params) },
      cause: lastError,
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * With no idle keep-alive connection, a request first opens one, and reaches the server later
   * than its start by the connect time: on a busy host, even on loopback, enough to eat the
   * limiter's whole margin and draw a 429.
   */
  private readonly connectAllowanceMs = (): number => (this.pool.stats.free > 0 ? 0 : this.connects.connectMs);

  /**
   * One attempt: the body as text, or a TransientError / FinalHttpError saying why not. Its clock
   * covers the whole exchange, headers and body: undici's own timeouts restart with every chunk,
   * so a server trickling a byte at a time would hold the attempt for as long as it cared to.
   */
  private async send(utility: EutilsUtility, form: string, deadline: AbortSignal): Promise<string> {
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new Error(`attempt timed out after ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    const onDeadline = (): void => attempt.abort(deadline.reason);
    if (deadline.aborted) onDeadline();
    else deadline.addEventListener('abort', onDeadline, { once: true });
    try {
      return await this.exchange(utility, form, attempt.signal);
    } finally {
      clearTimeout(timer);
      deadline.removeEventListener('abort', onDeadline);
    }
  }

  private async exchange(utility: EutilsUtility, form: string, signal: AbortSignal): Promise<string> {
    let response;
    try {
      response = await this.pool.request({
        path: `${this.pathPrefix}${utility}.fcgi`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-encoding': 'gzip' },
        body: form,
        signal,
      });
    } catch (error) {
      throw new NoAnswerError(`no answer: ${this.networkReason(error, signal)}`, { cause: error });
    }
    const { statusCode, headers } = response;
    let bytes: Buffer;
    try {
      bytes = await readBody(response.body, headers, this.maxResponseBytes);
    } catch (error) {
      throw error instanceof TransientError || error instanceof OversizeResponseError
        ? error
        : new TransientError(`body cut off: ${this.networkReason(error, signal)}`, { cause: error });
    }
    this.stats.bytes += bytes.length;
    const contentType = headers['content-type'];
    const { text: body, encoding, lossy } = decodeBody(bytes, typeof contentType === 'string' ? contentType : undefined);
    if (statusCode === 429) {
      this.stats.rateLimited += 1;
      const retryAfter = headers['retry-after'];
      const retryAfterMs = this.cappedRetryAfterMs(utility, typeof retryAfter === 'string' ? retryAfter : undefined);
      throw new TransientError(`HTTP 429 (rate limit), retry after ${retryAfterMs} ms`, { retryAfterMs });
    }
    if (statusCode < 200 || statusCode >= 300) {
      const message = `HTTP ${statusCode}${describeErrorPage(body)}`;
      throw isRetryableStatus(statusCode) ? new TransientError(message) : new FinalHttpError(message);
    }
    if (lossy) this.reportInvalidEncoding(utility, form, encoding);
    const bodyError = checkErrorBody(body);
    if (bodyError !== undefined) throw new TransientError(this.redact(bodyError));
    return body;
  }

  /** `Retry-After` as asked, up to the cap: a proxy or a broken NCBI front end may ask for a day. */
  private cappedRetryAfterMs(utility: EutilsUtility, header: string | undefined): number {
    const askedMs = parseRetryAfterMs(header, this.defaultRetryAfterMs);
    if (askedMs <= this.maxRetryAfterMs) return askedMs;
    this.logger?.warn(
      { utility, retryAfter: header, askedSeconds: seconds(askedMs), usedSeconds: seconds(this.maxRetryAfterMs) },
      `NCBI asked to wait ${seconds(askedMs)} s (Retry-After: ${header}); waiting ${seconds(this.maxRetryAfterMs)} s, the PUBCAT_MAX_RETRY_AFTER cap`,
    );
    return this.maxRetryAfterMs;
  }

  /**
   * Names the request whose answer lost characters for good, so its records can be checked; the
   * load names each record holding U+FFFD too.
   */
  private reportInvalidEncoding(utility: EutilsUtility, form: string, encoding: string): void {
    this.stats.invalidEncoding += 1;
    const params = new URLSearchParams(form);
    const db = params.get('db') ?? '';
    const ids = (params.get('id') ?? '').split(',').filter((id) => id !== '');
    const named = db === 'pmc' ? `PMC ids ${ids.map((id) => `PMC${id}`).join(', ')}` : `PMIDs ${ids.join(', ')}`;
    const shown = named.length > 600 ? `${named.slice(0, 600)}… (${ids.length} in all)` : named;
    this.logger?.warn(
      { utility, db, encoding, ids: ids.length },
      `invalid ${encoding === 'utf-8' ? 'UTF-8' : encoding} in NCBI's ${utility} answer for ${shown}; bytes replaced by U+FFFD`,
    );
  }

  private formBody(params: EutilsParams): string {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) form.set(name, String(value));
    form.set('tool', this.options.tool);
    if (this.options.email) form.set('email', this.options.email);
    if (this.options.apiKey) form.set('api_key', this.options.apiKey);
    return form.toString();
  }

  /** Parameters as they may appear in an error: no key, long id lists shortened. */
  private describe(params: EutilsParams): EutilsParams {
    const shown: EutilsParams = {};
    for (const [name, value] of Object.entries(params)) {
      const text = String(value);
      shown[name] = text.length > 200 ? `${text.slice(0, 200)}… (${text.split(',').length} ids)` : value;
    }
    return shown;
  }

  private networkReason(error: unknown, signal: AbortSignal): string {
    if (signal.aborted) return `no complete answer within ${this.requestTimeoutMs} ms`;
    const code = (error as { code?: unknown }).code;
    return `${(error as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`;
  }

  private reasonOf(error: unknown): string {
    return this.redact(error instanceof Error ? error.message : String(error));
  }

  private redact(text: string): string {
    const key = this.options.apiKey;
    return key ? text.split(key).join('***') : text;
  }
}

/** Milliseconds as seconds for messages, to a tenth. */
function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** ` (HTML page "title")` for NCBI's HTML error pages, else nothing. */
function describeErrorPage(body: string): string {
  const title = /<title>([^<]{0,200})<\/title>/i.exec(body.slice(0, 4096))?.[1]?.trim();
  return title ? ` (HTML page "${title}")` : '';
}
