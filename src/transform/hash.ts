/**
 * The content hash the load stage compares to skip unchanged records: sha256 over canonical JSON
 * (object keys sorted at every level, arrays in order, absent fields left out), so the same
 * content always hashes the same whatever order its fields were built in.
 */
import { hash } from 'node:crypto';
import type { CatalogueRecord, DerivedFields } from './types.js';

/**
 * What JSON.stringify writes for `value` with every plain object's keys in sorted order. Built by
 * hand because a replacer function costs a call per value and a sorted copy per object; arrays
 * of plain values, which are most of a record, go to JSON.stringify whole.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) return JSON.stringify(value);
    return `[${value.map((item) => (item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON(): unknown }).toJSON());
  const object = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
  }
  return `{${parts.join(',')}}`;
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
  return { recordJson, derivedJson, contentHash: hash('sha256', whole, 'hex') };
}

export function contentHash(record: CatalogueRecord, derived: DerivedFields): string {
  return canonicalContent(record, derived).contentHash;
}
