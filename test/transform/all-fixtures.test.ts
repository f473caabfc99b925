/**
 * Every PubMed record in the real fixtures goes through the transform, and no word of its title
 * or abstract is lost. The expected words are computed here independently of the parser: a
 * regex cut of the element, tags stripped, the usual entities decoded.
 */
import { describe, expect, it } from 'vitest';
import { parsePubmedSet } from '../../src/transform/parse/pubmed-parser.js';
import type { PubmedRecord } from '../../src/transform/parse/pubmed-record.js';
import { toCatalogueRecord, transformPubmedRecord } from '../../src/transform/index.js';
import type { CatalogueRecord } from '../../src/transform/types.js';
import { pubmedDocuments, recordChunks, type RecordChunk } from './pubmed-fixtures.js';

function decode(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The text of the first `<name>` element in `xml`, tags stripped and entities decoded. */
function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : decode(match[1].replace(/<[^>]+>/g, ' '));
}

/** Parentheses are what sup/sub become; whitespace is layout. Neither may split a word. */
const squeeze = (text: string): string => text.replace(/[\s()]+/g, '');

/** Asserts each word of `expected` occurs in `actual`, in order. */
function expectWordsInOrder(expected: string, actual: string, what: string): void {
  const haystack = squeeze(actual);
  let from = 0;
  for (const word of expected.split(/\s+/).map(squeeze).filter(Boolean)) {
    const at = haystack.indexOf(word, from);
    expect(at, `${what}: "${word}" missing or out of order`).toBeGreaterThanOrEqual(0);
    from = at + word.length;
  }
}

/** What the title should hold: NLM's trailing period and translation brackets removed. */
function expectedTitle(chunk: RecordChunk): string {
  const title = elementText(chunk.xml, 'ArticleTitle') ?? elementText(chunk.xml, 'BookTitle') ?? '';
  const trimmed = title.trim().replace(/\.$/, '');
  const vernacular = elementText(chunk.xml, 'VernacularTitle');
  if (trimmed.startsWith('[') && trimmed.endsWith(']') && vernacular) return vernacular.replace(/\.\s*$/, '');
  return trimmed.replace(/^\[|\]$/g, '');
}

function expectedAbstract(chunk: RecordChunk): string {
  const abstract = /<Abstract>([\s\S]*?)<\/Abstract>/.exec(chunk.xml)?.[1] ?? '';
  return [...abstract.matchAll(/<AbstractText[^>]*>([\s\S]*?)<\/AbstractText>/g)]
    .map((match) => decode((match[1] ?? '').replace(/<[^>]+>/g, ' ')))
    .join(' ');
}

function checkWords(chunk: RecordChunk, record: CatalogueRecord, document: string): void {
  const what = `${document} PMID ${chunk.pmid}`;
  expectWordsInOrder(expectedTitle(chunk), record.title, `${what} title`);
  expectWordsInOrder(expectedAbstract(chunk), record.description ?? '', `${what} abstract`);
}

const documents = pubmedDocuments();

describe('every PubMed record in the fixtures', () => {
  it('finds the fixture documents, cassettes and bulk files included', () => {
    expect(documents.length).toBeGreaterThan(50);
    expect(documents.some((d) => d.name.includes('.yaml#'))).toBe(true);
    expect(documents.some((d) => d.name.endsWith('.gz'))).toBe(true);
    expect(documents.flatMap((d) => recordChunks(d.xml)).length).toBeGreaterThan(650);
  });

  const responses = documents.filter((d) => !d.xml.includes('<MedlineCitationSet'));
  it.each(responses.map((d) => [d.name, d] as const))('%s: each record transforms and keeps every word', (_name, document) => {
    const chunks = recordChunks(document.xml);
    // pymed's file is one bare record element, not a set: only transformPubmedRecord reads it.
    const isSet = document.xml.includes('<PubmedArticleSet');
    if (isSet) expect(parsePubmedSet(document.xml, document.name).records).toHaveLength(chunks.length);
    for (const chunk of chunks) {
      const transformed = transformPubmedRecord({ pmid: chunk.pmid, kind: chunk.kind === 'book' ? 'book' : 'article', xml: chunk.xml });
      expect(transformed.record.id).toMatch(/^(pubmed|pmid)-\d+$/);
      expect(transformed.contentHash).toMatch(/^[0-9a-f]{64}$/);
      checkWords(chunk, transformed.record, document.name);
    }
  });

  const bulk = documents.filter((d) => d.xml.includes('<MedlineCitationSet'));
  it.each(bulk.map((d) => [d.name, d] as const))('%s: each citation transforms and keeps every word', (_name, document) => {
    const byPmid = new Map<number, PubmedRecord>(
      parsePubmedSet(document.xml, document.name).records.map((r) => [r.pmid, r]),
    );
    const chunks = recordChunks(document.xml);
    expect(byPmid.size).toBe(chunks.length);
    for (const chunk of chunks) {
      checkWords(chunk, toCatalogueRecord(byPmid.get(chunk.pmid) as PubmedRecord), document.name);
    }
  });
});
