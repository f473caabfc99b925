/**
 * `COPY (query) TO … (FORMAT binary)` on either backend, and its rows. The binary format hands
 * each value over as the bytes PostgreSQL wrote for it (text as UTF-8, with no escaping), so text
 * built by a query reaches a file or a socket without being decoded into JS strings and encoded
 * again: for large documents that round trip cost more than the query.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool } from 'kysely';

/** Runs `COPY (query) TO … (FORMAT binary)` and returns all it wrote. `query` takes no parameters. */
export type CopyOut = (query: string) => Promise<Buffer>;

const copyStatement = (query: string, to: string): string => `COPY (${query}) TO ${to} (FORMAT binary)`;

export function pgliteCopyOut(pglite: PGlite): CopyOut {
  return async (query) => {
    const result = await pglite.query(copyStatement(query, `'/dev/blob'`));
    if (result.blob === undefined) throw new Error('PGlite returned no data for COPY TO /dev/blob');
    return Buffer.from(await result.blob.arrayBuffer());
  };
}

export function postgresCopyOut(pool: PostgresPool): CopyOut {
  // Pages of one export are much alike: each starts with room for the largest so far.
  let capacity = 1 << 20;
  return async (query) => {
    const client = await pool.connect();
    let failed = false;
    try {
      // One round trip (the simple query protocol takes several statements), without JIT: a query
      // judged worth compiling (stale statistics, say) would cost far more than it reads.
      return await new Promise<Buffer>((resolve, reject) => {
        const received = new GrowingBuffer(capacity);
        const submittable = {
          submit: (connection: { query(text: string): void }) => connection.query(`SET jit = off; ${copyStatement(query, 'STDOUT')}; RESET jit`),
          handleCopyData: (message: { chunk: Buffer }) => received.append(message.chunk),
          handleCommandComplete: () => undefined,
          handleRowDescription: () => undefined,
          handleDataRow: () => undefined,
          handleEmptyQuery: () => undefined,
          // pg hands an error to the statement and forgets it: no ReadyForQuery follows for it.
          handleError: (error: Error) => reject(error),
          handleReadyForQuery: () => {
            capacity = Math.max(capacity, received.length);
            resolve(received.bytes());
          },
        };
        void (client.query(submittable as unknown as never) as unknown);
      });
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      client.release(failed);
    }
  };
}

/**
 * PostgreSQL sends a binary COPY a row at a time, each a view of pg's read buffer that the next
 * read may overwrite: copied into one buffer that doubles as it fills, a page costs a few
 * allocations rather than one per row (which kept the garbage collector busier than the rest).
 */
class GrowingBuffer {
  private data: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.data = Buffer.allocUnsafe(capacity);
  }

  append(chunk: Buffer): void {
    if (this.length + chunk.length > this.data.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.data.length * 2, this.length + chunk.length));
      this.data.copy(larger, 0, 0, this.length);
      this.data = larger;
    }
    chunk.copy(this.data, this.length);
    this.length += chunk.length;
  }

  bytes(): Buffer {
    return this.data.subarray(0, this.length);
  }
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** The rows of a binary COPY, each a list of its values (null for SQL NULL), as slices of `data`. */
export function binaryCopyRows(data: Buffer): (Buffer | null)[][] {
  if (data.length < SIGNATURE.length + 8 || !data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new Error('not the output of COPY (FORMAT binary)');
  }
  let at = SIGNATURE.length + 4;
  at += 4 + data.readInt32BE(at);
  const rows: (Buffer | null)[][] = [];
  for (;;) {
    const count = data.readInt16BE(at);
    at += 2;
    if (count === -1) return rows;
    const row = new Array<Buffer | null>(count);
    for (let field = 0; field < count; field += 1) {
      const length = data.readInt32BE(at);
      at += 4;
      row[field] = length === -1 ? null : data.subarray(at, at + length);
      if (length > 0) at += length;
    }
    rows.push(row);
  }
}
