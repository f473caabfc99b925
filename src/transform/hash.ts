/**
 * The content hash the load stage compares to skip unchanged records: sha256 over canonical JSON
 * (object keys sorted at every level, arrays in order, absent fields left out), so the same
 * content always hashes the same whatever order its fields were built in.
 */
import { createHash } from 'node:crypto';
import type { CatalogueRecord, DerivedFields } from './types.js';

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, field]) => `${JSON.stringify(key)}:${canonicalJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function contentHash(record: CatalogueRecord, derived: DerivedFields): string {
  return createHash('sha256').update(canonicalJson({ record, derived })).digest('hex');
}
