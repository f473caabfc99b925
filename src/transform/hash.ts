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

/** A record's and its derived fields' canonical JSON, which the load stores, and the hash over both. */
export interface CanonicalContent {
  recordJson: string;
  derivedJson: string;
  contentHash: string;
}

export function canonicalContent(record: CatalogueRecord, derived: DerivedFields): CanonicalContent {
  const recordJson = canonicalJson(record);
  const derivedJson = canonicalJson(derived);
  // Exactly canonicalJson({ record, derived }), whose keys sort `derived` first, built from the parts.
  const whole = `{"derived":${derivedJson},"record":${recordJson}}`;
  return { recordJson, derivedJson, contentHash: createHash('sha256').update(whole).digest('hex') };
}

export function contentHash(record: CatalogueRecord, derived: DerivedFields): string {
  return canonicalContent(record, derived).contentHash;
}
