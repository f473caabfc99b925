/**
 * Sends an export to a Solr core's `/update` handler, one request per page of records, each a
 * JSON object of update commands with `commitWithin`, so Solr commits on its own schedule and an
 * export of millions does not force a commit per batch. Failures that a later try may not repeat
 * (no answer, 408, 429, 5xx) are retried with backoff; Solr refusing a batch (400: an unknown
 * field, say) is final, and its reason is the error's message.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { PubcatError } from '../errors.js';
import { backoffDelayMs, parseRetryAfterMs, type BackoffPolicy } from '../extract/retry.js';
import { joinEntries, SOLR_CLOSE, SOLR_OPEN, SOLR_SEPARATOR, type EncodedPage } from './formats.js';
import type { ExportSink } from './stream-sink.js';

/** Solr could not be reached, or refused a batch, after every retry. */
export class SolrError extends PubcatError {}

/** Solr makes the documents searchable within this time of receiving them. */
export const COMMIT_WITHIN_MS = 10_000;
const REQUEST_TIMEOUT_MS = 120_000;
export const SOLR_BACKOFF: BackoffPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** `http://host:8983/solr/biblio` or its `…/update`: the update handler of that core. */
export function solrUpdateUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SolrError(`--post ${text} is not a URL: give the Solr core, e.g. http://localhost:8983/solr/biblio`, { input: text });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SolrError(`--post ${text} is not an http(s) URL: give the Solr core, e.g. http://localhost:8983/solr/biblio`, { input: text });
  }
  if (!url.pathname.replace(/\/+$/, '').endsWith('/update')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/update`;
  url.searchParams.set('commitWithin', String(COMMIT_WITHIN_MS));
  url.searchParams.set('wt', 'json');
  return url;
}

export class SolrPostSink implements ExportSink {
  readonly deliversEachPage = true;
  retries = 0;
  private readonly pool: Pool;
  private readonly path: string;
  /** For messages: the URL as given, without credentials. */
  private readonly shown: string;

  constructor(
    url: URL,
    private readonly backoff: BackoffPolicy = SOLR_BACKOFF,
  ) {
    this.pool = new Pool(url.origin, { connections: 1, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });
    this.path = `${url.pathname}${url.search}`;
    this.shown = `${url.origin}${url.pathname}`;
  }

  async write(page: EncodedPage): Promise<void> {
    if (page.entries.length === 0) return;
    const body = joinEntries(page.entries, SOLR_SEPARATOR, SOLR_OPEN, SOLR_CLOSE);
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.attempt(body);
      if (outcome.ok) return;
      if (!outcome.retryable || attempt >= this.backoff.maxAttempts) {
        throw new SolrError(`Solr at ${this.shown} ${outcome.reason}${outcome.retryable ? ` (gave up after ${attempt} attempts)` : ''}`, {
          input: this.shown,
        });
      }
      this.retries += 1;
      await sleep(outcome.waitMs ?? backoffDelayMs(this.backoff, attempt));
    }
  }

  finish(): Promise<void> {
    return this.pool.close();
  }

  abort(): Promise<void> {
    return this.pool.destroy();
  }

  private async attempt(body: Buffer): Promise<{ ok: true } | { ok: false; retryable: boolean; reason: string; waitMs?: number }> {
    let response;
    try {
      response = await this.pool.request({ method: 'POST', path: this.path, body, headers: { 'content-type': 'application/json' } });
    } catch (error) {
      return { ok: false, retryable: true, reason: `did not answer: ${(error as Error).message}` };
    }
    const text = await response.body.text().catch(() => '');
    if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true };
    const status = response.statusCode;
    const reason = `answered HTTP ${status}${solrMessage(text)}`;
    if (status === 429 || status === 503) {
      const retryAfter = response.headers['retry-after'];
      const waitMs = Math.min(this.backoff.maxDelayMs, parseRetryAfterMs(typeof retryAfter === 'string' ? retryAfter : undefined, backoffDelayMs(this.backoff, 1)));
      return { ok: false, retryable: true, reason, waitMs };
    }
    return { ok: false, retryable: status === 408 || status >= 500, reason };
  }
}

/** Solr's error reply `{"error":{"msg":…}}`, as `: msg` on one line. */
function solrMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { msg?: unknown } }).error?.msg;
    if (typeof message === 'string' && message.trim() !== '') return `: ${message.split('\n', 1)[0]!.trim()}`;
  } catch {
    // Not Solr's JSON (a proxy's page, say): the status says enough.
  }
  return '';
}
