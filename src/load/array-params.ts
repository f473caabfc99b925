/**
 * Array parameters for the load statements, which `unnest` them into rows. On PostgreSQL they
 * travel in the binary array format: the server copies each element as it is, where a text
 * literal (or a JSON document) is scanned character by character, escapes and all, and the
 * records' XML and JSON are most of a batch's several megabytes. PGlite serialises plain
 * arrays itself, so there they are passed as they are.
 */
import type { Backend } from './db.js';

/** What a statement parameter holding an array is, per backend. */
export type ArrayParam<T> = Buffer | readonly T[];

// Element type OIDs (pg_type): the binary format names the element type of the array.
const INT8_OID = 20;
const INT4_OID = 23;
const TEXT_OID = 25;
/** ndim, has-nulls flag, element type, then length and lower bound of the one dimension. */
const HEADER_BYTES = 20;

export function textArray(backend: Backend, values: readonly (string | null)[]): ArrayParam<string | null> {
  if (backend === 'pglite') return values;
  let size = HEADER_BYTES;
  let hasNulls = false;
  const lengths = new Int32Array(values.length);
  values.forEach((value, index) => {
    const length = value === null ? -1 : Buffer.byteLength(value, 'utf8');
    lengths[index] = length;
    hasNulls ||= value === null;
    size += 4 + Math.max(length, 0);
  });
  const buffer = Buffer.allocUnsafe(size);
  let offset = writeHeader(buffer, values.length, hasNulls, TEXT_OID);
  values.forEach((value, index) => {
    offset = buffer.writeInt32BE(lengths[index] as number, offset);
    if (value !== null) offset += buffer.write(value, offset, 'utf8');
  });
  return buffer;
}

export function bigintArray(backend: Backend, values: readonly number[]): ArrayParam<number> {
  if (backend === 'pglite') return values;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + values.length * 12);
  let offset = writeHeader(buffer, values.length, false, INT8_OID);
  for (const value of values) {
    offset = buffer.writeInt32BE(8, offset);
    offset = buffer.writeBigInt64BE(BigInt(value), offset);
  }
  return buffer;
}

export function intArray(backend: Backend, values: readonly (number | null)[]): ArrayParam<number | null> {
  if (backend === 'pglite') return values;
  const nulls = values.filter((value) => value === null).length;
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + values.length * 4 + (values.length - nulls) * 4);
  let offset = writeHeader(buffer, values.length, nulls > 0, INT4_OID);
  for (const value of values) {
    if (value === null) offset = buffer.writeInt32BE(-1, offset);
    else offset = buffer.writeInt32BE(value, buffer.writeInt32BE(4, offset));
  }
  return buffer;
}

function writeHeader(buffer: Buffer, length: number, hasNulls: boolean, elementOid: number): number {
  let offset = buffer.writeInt32BE(1, 0);
  offset = buffer.writeInt32BE(hasNulls ? 1 : 0, offset);
  offset = buffer.writeInt32BE(elementOid, offset);
  offset = buffer.writeInt32BE(length, offset);
  return buffer.writeInt32BE(1, offset);
}
