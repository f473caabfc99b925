/**
 * NCBI's bulk files over HTTPS: the directory listings and the files themselves, each verified
 * against the `.md5` NCBI posts beside it. A file is written as `NAME.part` and renamed to `NAME`
 * only once complete and verified, so a file under its own name is always whole. An interrupted
 * download resumes where the part ends (a Range request); a server that ignores the Range (200
 * instead of 206) sends the whole file again, which replaces the part. A part whose checksum
 * does not match is thrown away and fetched again.
 *
 * Every request is retried with backoff on network errors, silences longer than the timeout and
 * 5xx answers; one given up ends in a BulkFileError naming the URL. These are not E-utilities
 * calls: NCBI's start limit does not apply to its file server, and a few requests per file are
 * all this makes.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request, stream } from 'undici';
import { redactUrl } from '../config.js';
import { BulkFileError } from '../errors.js';
import type { Logger } from '../logger.js';
import { COLLECTION_DIRECTORY, parseBulkListing, parseMd5File, type BulkCollection, type BulkFileEntry } from './bulk-files-listing.js';
import { DEFAULT_BACKOFF, FinalHttpError, TransientError, backoffDelayMs, isRetryableStatus, type BackoffPolicy } from './retry.js';

export interface BulkFilesClientOptions {
  /** Ends in `/`; `baseline/` and `updatefiles/` are under it (PUBCAT_FILES_BASE_URL). */
  baseUrl: string;
  /** Attempts per request, the first included. */
  attempts: number;
  /** The longest wait for the answer's headers, or between two pieces of its body. */
  timeoutMs: number;
  backoff?: Partial<Omit<BackoffPolicy, 'maxAttempts'>>;
  userAgent?: string;
  logger?: Logger;
}

export interface DownloadedFile {
  entry: BulkFileEntry;
  /** The verified file, under its own name. */
  path: string;
  md5Path: string;
  md5: string;
  bytes: number;
}

/** A listing is some hundred kilobytes; anything near this is not one. */
const MAX_TEXT_BYTES = 16 * 1024 * 1024;
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

export class BulkFilesClient {
  private readonly agent: Agent;
  private readonly backoff: BackoffPolicy;

  constructor(private readonly options: BulkFilesClientOptions) {
    this.agent = new Agent({ connections: 2, keepAliveTimeout: 10_000 });
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff, maxAttempts: options.attempts };
  }

  urlOf(collection: BulkCollection, name = ''): string {
    return new URL(COLLECTION_DIRECTORY[collection] + encodeURIComponent(name), this.options.baseUrl).toString();
  }

  /** The collection's data files in the order they apply. */
  async listing(collection: BulkCollection, signal?: AbortSignal): Promise<BulkFileEntry[]> {
    const url = this.urlOf(collection);
    return parseBulkListing(await this.withRetries(url, signal, () => this.text(url, signal)));
  }

  /**
   * The file, verified, in `directory`: taken as it is when a verified copy is already there,
   * else downloaded (resuming a part left by an earlier attempt or run).
   */
  async download(collection: BulkCollection, entry: BulkFileEntry, directory: string, signal?: AbortSignal): Promise<DownloadedFile> {
    const url = this.urlOf(collection, entry.name);
    await mkdir(directory, { recursive: true });
    const path = join(directory, entry.name);
    const md5Path = `${path}.md5`;
    const md5Text = await this.withRetries(`${url}.md5`, signal, () => this.text(`${url}.md5`, signal));
    const md5 = this.wrap(`${url}.md5`, () => parseMd5File(md5Text, entry.name));
    await writeFile(md5Path, md5Text);
    const existing = await fileSize(path);
    if (existing !== undefined) {
      if ((await md5OfFile(path)) === md5) return { entry, path, md5Path, md5, bytes: existing };
      this.options.logger?.warn({ file: entry.name }, `${entry.name} in the download directory does not match its .md5; downloading it again`);
      await rm(path, { force: true });
    }
    const startedAt = Date.now();
    await this.withRetries(url, signal, () => this.downloadOnce(url, `${path}.part`, md5, signal));
    await rename(`${path}.part`, path);
    const bytes = (await fileSize(path)) ?? 0;
    this.options.logger?.info({ file: entry.name, bytes, seconds: (Date.now() - startedAt) / 1000 }, `downloaded ${entry.name}`);
    return { entry, path, md5Path, md5, bytes };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private requestOptions(headers: Record<string, string>, signal: AbortSignal | undefined) {
    return {
      dispatcher: this.agent,
      method: 'GET' as const,
      headers: { 'accept-encoding': 'identity', 'user-agent': this.options.userAgent ?? 'pubcat', ...headers },
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
      ...(signal === undefined ? {} : { signal }),
    };
  }

  private async text(url: string, signal: AbortSignal | undefined): Promise<string> {
    const response = await request(url, this.requestOptions({}, signal));
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw statusError(response.statusCode);
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > MAX_TEXT_BYTES) {
        response.body.destroy();
        throw new FinalHttpError(`the answer is over ${MAX_TEXT_BYTES / 1024 / 1024} MB, too large for a listing or checksum`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * One attempt: appends to the part from where it ends, or rewrites it, then verifies it. The
   * body goes straight from the socket into the part (see PartWriter), so whatever arrived
   * before a connection broke is kept for the next attempt to resume after.
   */
  private async downloadOnce(url: string, partPath: string, md5: string, signal: AbortSignal | undefined): Promise<void> {
    const have = (await fileSize(partPath)) ?? 0;
    let outcome: { status: number; resumedAt?: number | undefined } = { status: 0 };
    await stream(url, this.requestOptions(have > 0 ? { range: `bytes=${have}-` } : {}, signal), ({ statusCode, headers }) => {
      outcome = { status: statusCode, resumedAt: statusCode === 206 ? rangeStart(headers['content-range']) : undefined };
      if (statusCode === 200) return new PartWriter(partPath, 'w');
      if (statusCode === 206 && outcome.resumedAt === have) return new PartWriter(partPath, 'a');
      return discard();
    });
    const { status, resumedAt } = outcome;
    if (status === 206 && resumedAt !== have) {
      await rm(partPath, { force: true });
      throw new TransientError(`the server resumed at byte ${resumedAt ?? '?'} instead of ${have}; starting the file over`);
    }
    if (status === 200 && have > 0) this.options.logger?.info({ url: redactUrl(url), have }, 'the server ignored the Range request; downloaded the file from its start');
    // A 416 to a part's end means nothing comes after it: it may be complete already. The checksum decides.
    if (status !== 200 && status !== 206 && !(status === 416 && have > 0)) throw statusError(status);
    const actual = await md5OfFile(partPath);
    if (actual !== md5) {
      await rm(partPath, { force: true });
      throw new TransientError(`its MD5 ${actual} does not match ${md5} from its .md5; downloading it again`);
    }
  }

  /** Runs `attempt` until it succeeds, retrying what may pass; gives up with one line naming the URL. */
  private async withRetries<T>(url: string, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    const shown = redactUrl(url);
    for (let tried = 1; ; tried += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        const reason = describe(error);
        if (error instanceof FinalHttpError) throw new BulkFileError(`${shown}: ${reason}`, { input: shown, cause: error });
        if (!isTransient(error)) throw error;
        if (tried >= this.backoff.maxAttempts) {
          throw new BulkFileError(`gave up on ${shown} after ${tried} attempt${tried === 1 ? '' : 's'}: ${reason}`, { input: shown, cause: error });
        }
        const waitMs = backoffDelayMs(this.backoff, tried);
        this.options.logger?.warn({ url: shown, attempt: tried, reason, waitMs: Math.round(waitMs) }, 'bulk file request failed; trying again');
        await sleep(waitMs, undefined, signal === undefined ? undefined : { signal });
      }
    }
  }

  private wrap<T>(url: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw new BulkFileError(`${redactUrl(url)}: ${describe(error)}`, { input: redactUrl(url), cause: error });
    }
  }
}

function statusError(status: number): Error {
  return isRetryableStatus(status) ? new TransientError(`HTTP ${status}`) : new FinalHttpError(`HTTP ${status}`);
}

function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('UND_ERR') || NETWORK_ERROR_CODES.has(code));
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/** The first byte a 206 answer carries, from `Content-Range: bytes 100-199/200`. */
function rangeStart(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value === undefined ? null : /^\s*bytes\s+(\d+)-\d+\/(?:\d+|\*)\s*$/i.exec(value);
  return match === null ? undefined : Number(match[1]);
}

/**
 * Writes each piece of a body to the part file as undici hands it over, synchronously: when the
 * connection breaks, every byte received is already in the file (a stream that buffered writes
 * would drop the queued ones as it is destroyed). Pieces are tens of kilobytes; the page cache
 * takes them at once.
 */
class PartWriter extends Writable {
  private readonly fd: number;

  constructor(path: string, flags: 'a' | 'w') {
    super();
    this.fd = openSync(path, flags);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    try {
      for (let offset = 0; offset < chunk.length; ) offset += writeSync(this.fd, chunk, offset);
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    try {
      closeSync(this.fd);
    } catch (closeError) {
      return done(error ?? (closeError as Error));
    }
    done(error);
  }
}

/** Takes a body nobody wants (an error page, a range that does not fit) and drops it. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
