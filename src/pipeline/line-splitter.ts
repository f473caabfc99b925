/**
 * Lines of a byte stream, with a bound on their length. A line never grows past the bound in
 * memory: the bytes beyond it are counted and dropped as they stream by, so one huge line (a
 * binary file, a file with no newline) costs a fixed buffer, not its size. Lines end at LF; a CR
 * before the LF is dropped. Bytes are decoded as UTF-8 line by line, so a character split
 * across chunks stays whole, and bytes that are not UTF-8 become U+FFFD instead of an error.
 */
import { open } from 'node:fs/promises';

/** The longest line read as input (1 KB); longer ones are skipped, and reported by length. */
export const MAX_LINE_BYTES = 1_024;

/** Bytes of an over-long line kept to show which line it was. */
const OVER_LONG_START_BYTES = 32;

const LF = 10;
const CR = 13;

export type Line =
  | { kind: 'line'; number: number; text: string }
  /** `bytes`: its whole length (without the line ending); `start`: its first few characters. */
  | { kind: 'over-long'; number: number; bytes: number; start: string };

/** Bytes read from a file at a time. */
const CHUNK_BYTES = 65_536;

/**
 * A file's bytes, read into one buffer used again for every chunk: a stream would allocate a
 * new one each time, and a long read would leave garbage buffers outside the heap faster than
 * the collector frees them. A chunk is valid until the next one is asked for.
 */
export async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const file = await open(path);
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

/**
 * The lines of a stream, a chunk's worth at a time: lines are many and short, and handing each
 * over through a promise would cost more than splitting it. A chunk's lines are cut one by one
 * as they are read (so only the line at hand is alive, not a chunk's worth), and must all be
 * read before the next chunk is asked for.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>, maxBytes = MAX_LINE_BYTES): AsyncGenerator<Iterable<Line>> {
  const splitter = new LineSplitter(maxBytes);
  for await (const chunk of chunks) yield splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  yield splitter.end();
}

class LineSplitter {
  /** The start of a line that continues into the next chunk: the longest line allowed, plus a CR. */
  private readonly held: Buffer;
  private heldBytes = 0;
  /** Length of the line being read, its dropped bytes included. */
  private lineBytes = 0;
  private lastByte = -1;
  private number = 0;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {
    this.held = Buffer.allocUnsafe(maxBytes + 1);
  }

  /** The lines that end in `bytes`. */
  *push(bytes: Buffer): Generator<Line> {
    let start = 0;
    while (start <= bytes.length) {
      const newline = bytes.indexOf(LF, start);
      if (newline !== -1 && this.lineBytes === 0) {
        // The whole line is in this chunk: decoded from it, never copied.
        this.number += 1;
        yield lineWithin(bytes, start, newline, this.number, this.maxBytes);
      } else {
        const end = newline === -1 ? bytes.length : newline;
        const kept = Math.min(this.held.length - this.heldBytes, end - start);
        bytes.copy(this.held, this.heldBytes, start, start + kept);
        this.heldBytes += kept;
        this.lineBytes += end - start;
        if (end > start) this.lastByte = bytes[end - 1]!;
        if (newline === -1) break;
        yield this.heldLine();
      }
      start = newline + 1;
    }
  }

  /** The last line, when the input does not end with a newline. */
  *end(): Generator<Line> {
    if (this.lineBytes > 0) yield this.heldLine();
  }

  private heldLine(): Line {
    const contentBytes = this.lastByte === CR ? this.lineBytes - 1 : this.lineBytes;
    this.number += 1;
    const line: Line =
      contentBytes > this.maxBytes
        ? overLong(this.number, contentBytes, this.held.subarray(0, this.heldBytes))
        : { kind: 'line', number: this.number, text: this.held.toString('utf8', 0, contentBytes) };
    this.heldBytes = 0;
    this.lineBytes = 0;
    this.lastByte = -1;
    return line;
  }
}

function lineWithin(bytes: Buffer, start: number, end: number, number: number, maxBytes: number): Line {
  const contentEnd = end > start && bytes[end - 1] === CR ? end - 1 : end;
  return contentEnd - start > maxBytes
    ? overLong(number, contentEnd - start, bytes.subarray(start, contentEnd))
    : { kind: 'line', number, text: bytes.toString('utf8', start, contentEnd) };
}

/** `kept`: the line's bytes still at hand, its start at least. */
function overLong(number: number, length: number, kept: Buffer): Line {
  return { kind: 'over-long', number, bytes: length, start: kept.toString('utf8', 0, OVER_LONG_START_BYTES) };
}
