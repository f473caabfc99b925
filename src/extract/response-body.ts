/**
 * Reads an E-utilities answer's body within the response cap. A body is read whole before it is
 * parsed, so the cap is what keeps an answer from taking the process's heap: it is checked on
 * `content-length` before anything is read, then on the bytes as they arrive and, for a gzip
 * body, on the inflated bytes as they stream out, so a gzip bomb stops at the cap too.
 */
import { pipeline } from 'node:stream/promises';
import { getHeapStatistics } from 'node:v8';
import { createGunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { FinalHttpError, TransientError } from './retry.js';

/**
 * A body over the response cap. The same request would bring the same body, so it is not
 * retried: the caller asks for fewer records at a time instead.
 */
export class OversizeResponseError extends FinalHttpError {
  constructor(
    /** The body's size when known up front (`content-length`), else undefined: reading stopped at the cap. */
    readonly bytes: number | undefined,
    readonly capBytes: number,
    /** The cap was passed while inflating a gzip body. */
    readonly inflated: boolean,
  ) {
    const size = bytes === undefined ? 'response' : `response of ${bytes} bytes`;
    super(`${size} exceeds the ${capBytes}-byte cap${inflated ? ' once inflated (gzip)' : ''}`);
    this.name = 'OversizeResponseError';
  }
}

/**
 * The largest body this process can take: a body becomes a string on the heap (twice its bytes
 * when it holds any non-Latin-1 character) and is then cut into records, parsed and
 * transformed, so it gets an eighth of the heap. `pubcat`'s 512 MB heap gives about 70 MiB;
 * NCBI's largest answers (200 records) are a few MB.
 */
export function responseCapBytes(configuredMax: number, heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.min(configuredMax, Math.floor(heapLimitBytes / 8));
}

/**
 * The body's bytes, inflated when gzipped; an OversizeResponseError as soon as they pass `cap`,
 * a TransientError for a gzip stream that does not inflate, and the stream's own error when the
 * body is cut off.
 */
export async function readBody(body: Dispatcher.ResponseData['body'], headers: Dispatcher.ResponseData['headers'], cap: number): Promise<Buffer> {
  const announced = Number(headers['content-length']);
  if (announced > cap) {
    // Destroying an unread undici body emits an abort error; nobody else is listening.
    body.on('error', () => undefined).destroy();
    throw new OversizeResponseError(announced, cap, false);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = async (source: AsyncIterable<Buffer>): Promise<void> => {
    for await (const chunk of source) {
      chunks.push(chunk);
      size += chunk.length;
    }
  };
  // A failing stage makes pipeline destroy the others: the body, and with it the socket.
  if (headers['content-encoding'] !== 'gzip') {
    await pipeline(body, capped(cap, false), collect);
    return Buffer.concat(chunks, size);
  }
  try {
    await pipeline(body, capped(cap, false), createGunzip(), capped(cap, true), collect);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new TransientError(`gzip body unreadable: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
  return Buffer.concat(chunks, size);
}

/** A stage that passes chunks on until, all together, they pass `cap` bytes. */
function capped(cap: number, inflated: boolean): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    let size = 0;
    for await (const chunk of source) {
      size += chunk.length;
      if (size > cap) throw new OversizeResponseError(undefined, cap, inflated);
      yield chunk;
    }
  };
}
