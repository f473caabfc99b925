/** The transform's fast paths write what the general code they stand in for wrote. */
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/transform/hash.js';
import { transformPubmedRecord } from '../../src/transform/index.js';
import { sortableTitle } from '../../src/transform/text.js';
import { normalizeWorkKey } from '../../src/transform/work-keys.js';
import { pubmedDocuments, recordChunks, type RecordChunk } from './pubmed-fixtures.js';

/** Canonical JSON as first defined, which stored content hashes were computed over. */
function replacerJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const object = item as Record<string, unknown>;
    return Object.fromEntries(Object.keys(object).sort().map((key) => [key, object[key]]));
  });
}

describe('canonicalJson', () => {
  it('writes every fixture record and its derived fields as the sorting replacer did', () => {
    const chunks = pubmedDocuments().flatMap((document) => recordChunks(document.xml)).filter((chunk): chunk is RecordChunk & { kind: 'article' | 'book' } => chunk.kind !== 'citation');
    for (const chunk of chunks) {
      const { record, derived, recordJson, derivedJson } = transformPubmedRecord({ pmid: chunk.pmid, kind: chunk.kind, xml: chunk.xml });
      expect(recordJson).toBe(replacerJson(record));
      expect(derivedJson).toBe(replacerJson(derived));
      expect(canonicalJson({ record, derived })).toBe(replacerJson({ record, derived }));
    }
  });

  it('leaves out absent fields, writes holes as null and escapes text as JSON.stringify does', () => {
    const value = { b: [1, undefined, 'x"\u2028\ud800', { z: 1, a: [null, { d: undefined, c: true }] }], a: undefined, c: { y: '', x: -0 }, 'é': 1.5e300 };
    expect(canonicalJson(value)).toBe(replacerJson(value));
    expect(canonicalJson('text')).toBe('"text"');
  });
});

describe('normalizeWorkKey', () => {
  it('reads ASCII as the Unicode path does: letters and digits only, lower case', () => {
    const ascii = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)).join('');
    expect(normalizeWorkKey(ascii)).toBe('0123456789abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz');
    expect(normalizeWorkKey(`${ascii}é`)).toBe('0123456789abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyze');
    expect(normalizeWorkKey('x'.repeat(300))).toHaveLength(255);
  });
});

describe('sortableTitle', () => {
  it("trims as PHP's trim does (space, tab, LF, CR, NUL, VT) and keeps other spaces", () => {
    expect(sortableTitle(' \t\0\u000bThe Title \n')).toBe('title');
    expect(sortableTitle('\r\nAn apple\r\n')).toBe('apple');
    expect(sortableTitle('\u00a0A b\u00a0')).toBe('\u00a0a b\u00a0');
    expect(sortableTitle('  ')).toBe('');
  });
});
