/**
 * The content hash the load stage compares to skip unchanged records: sha256 over canonical JSON
 * (object keys sorted at every level, arrays in order, absent fields left out), so the same
 * content always hashes the same whatever order its fields were built in.
 */
import { createHash } from 'node:crypto';
import type { CatalogueRecord, DerivedFields } from './types.js';

/** JSON.stringify replacer giving every plain object its keys in sorted order. */
function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const object = value as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(object).sort()) sorted[key] = object[key];
  return sorted;
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys);
}

export function contentHash(record: CatalogueRecord, derived: DerivedFields): string {
  return contentHashOfJson(canonicalJson(record), canonicalJson(derived));
}

/**
 * The same hash from the canonical JSON of each part, which the transform keeps for the load:
 * the text is exactly canonicalJson({ record, derived }), whose keys sort `derived` first.
 */
export function contentHashOfJson(recordJson: string, derivedJson: string): string {
  return createHash('sha256').update(`{"derived":${derivedJson},"record":${recordJson}}`).digest('hex');
}
