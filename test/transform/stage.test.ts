import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { contentHash, deriveFields, facets, transformPubmedRecord } from '../../src/transform/index.js';
import { canonicalJson } from '../../src/transform/hash.js';
import { normalizeWorkKey, workKeys } from '../../src/transform/work-keys.js';
import { parsePubmedSet } from '../../src/transform/parse/pubmed-parser.js';
import { fixtureText, recordChunks } from './pubmed-fixtures.js';

const seedXml = recordChunks(fixtureText('seed/efetch-pubmed-31810187.xml'))[0]?.xml ?? '';
const seedPmc = {
  pmcid: 'PMC6947442',
  articleXml: /<article[\s\S]*<\/article>/.exec(fixtureText('seed/efetch-pmc-6947442.xml'))?.[0],
  summaryXml: /<DocumentSummary [\s\S]*<\/DocumentSummary>/.exec(fixtureText('seed/esummary-pmc-6947442.xml'))?.[0],
};
const expected = JSON.parse(fixtureText('seed-record/31810187.record.json')) as unknown;

describe('work keys', () => {
  it('transliterates Greek as ICU Greek-Latin does', () => {
    expect(normalizeWorkKey('TNF-α')).toBe('tnfa');
    expect(normalizeWorkKey('IL-1β')).toBe('il1b');
    expect(normalizeWorkKey('NF-κB')).toBe('nfkb');
    expect(normalizeWorkKey('θ-Defensin, η and ω')).toBe('thdefensinēandō');
    expect(normalizeWorkKey('Ευαγγέλιο')).toBe('euangelio');
  });

  it('strips accents, punctuation and spaces, and caps keys at 255 code points', () => {
    expect(normalizeWorkKey('Törnqvist Andrén, Anton')).toBe('tornqvistandrenanton');
    expect(normalizeWorkKey('𝐀'.repeat(300))).toBe('a'.repeat(255));
  });

  it('makes one key per author per distinct title form, and none without authors', () => {
    expect(workKeys(['The Cell', 'cell'], ['Doe, J', 'Roe, R'])).toEqual([
      'AT doej thecell', 'AT roer thecell', 'AT doej cell', 'AT roer cell',
    ]);
    expect(workKeys(['Cell', 'cell'], ['Doe, J'])).toEqual(['AT doej cell']);
    expect(workKeys(['Cell'], [])).toEqual([]);
  });
});

describe('deriveFields and facets', () => {
  it('derives container, ids, topics and genre from PubMed', () => {
    const pubmed = parsePubmedSet(fixtureText('seed/efetch-pubmed-31810187.xml')).records[0];
    expect(deriveFields(pubmed!)).toEqual({
      container_title: 'Journal of clinical medicine',
      container_volume: '8',
      container_issue: '12',
      issn: ['2077-0383'],
      doi_str_mv: ['10.3390/jcm8122102'],
      topic_facet: ['MSC', 'multiple sclerosis', 'Tregs', 'microRNA'],
      genre_facet: ['Journal Article'],
      publishDateSort: '2019-12-02',
    });
  });

  it('puts MeSH descriptors before keywords in topic_facet', () => {
    const pubmed = parsePubmedSet(fixtureText('ncbi/metapub/38534005.xml')).records[0]!;
    const topics = deriveFields(pubmed).topic_facet ?? [];
    expect(topics.slice(0, pubmed.meshDescriptors.length)).toEqual(pubmed.meshDescriptors);
    expect(topics.slice(pubmed.meshDescriptors.length)).toEqual(pubmed.keywords);
  });

  it('lists distinct facet rows under the documented names', () => {
    const { record, derived } = transformPubmedRecord({ pmid: 31810187, kind: 'article', xml: seedXml }, seedPmc);
    const rows = facets(record, derived);
    expect([...new Set(rows.map((row) => row.facet))]).toEqual([
      'author', 'year', 'language', 'format', 'journal', 'topic', 'publication_type',
    ]);
    expect(rows).toContainEqual({ facet: 'journal', value: 'Journal of clinical medicine' });
    expect(rows.filter((row) => row.facet === 'author')).toHaveLength(9);
  });
});

describe('contentHash', () => {
  it('depends on content, not on the order fields were built in', () => {
    const { record, derived } = transformPubmedRecord({ pmid: 31810187, kind: 'article', xml: seedXml });
    const reordered = Object.fromEntries(Object.entries(record).reverse()) as typeof record;
    expect(contentHash(reordered, derived)).toBe(contentHash(record, derived));
    expect(contentHash({ ...record, title: `${record.title}!` }, derived)).not.toBe(contentHash(record, derived));
  });

  it('is sha256 of canonical JSON of { record, derived }, and the JSON kept for the load parses back to the record', () => {
    const transformed = transformPubmedRecord({ pmid: 31810187, kind: 'article', xml: seedXml });
    const { record, derived } = transformed;
    // Catalogues loaded before the JSON was kept hold hashes of this text: they must stay equal.
    const whole = createHash('sha256').update(canonicalJson({ record, derived })).digest('hex');
    expect(transformed.contentHash).toBe(whole);
    expect(contentHash(record, derived)).toBe(whole);
    expect(JSON.parse(transformed.recordJson)).toEqual(record);
    expect(JSON.parse(transformed.derivedJson)).toEqual(derived);
  });
});

describe('transformPubmedRecord', () => {
  it('produces the seed record with its facets, hash and source XML kept', () => {
    const result = transformPubmedRecord({ pmid: 31810187, kind: 'article', xml: seedXml, pmcid: 'PMC6947442' }, seedPmc);
    expect(result.record).toStrictEqual(expected);
    expect(result).toMatchObject({
      pmid: 31810187,
      catalogueId: 'pubmed-6947442',
      sourceXml: seedXml,
      pmcArticleXml: seedPmc.articleXml,
      pmcSummaryXml: seedPmc.summaryXml,
    });
    expect(result.contentHash).toBe(contentHash(result.record, result.derived));
  });

  it('keeps the ReferenceList in the stored source XML although the parser skips it', () => {
    const xml = recordChunks(fixtureText('ncbi/metapub/24349601.xml'))[0]?.xml ?? '';
    expect(transformPubmedRecord({ pmid: 24349601, kind: 'article', xml }).sourceXml).toContain('<ReferenceList>');
  });

  it('refuses XML labelled with another PMID or PMC data of another article', () => {
    expect(() => transformPubmedRecord({ pmid: 1, kind: 'article', xml: seedXml })).toThrow(InputError);
    expect(() =>
      transformPubmedRecord({ pmid: 31810187, kind: 'article', xml: seedXml }, { ...seedPmc, pmcid: 'PMC1' }),
    ).toThrow(/has PMC id PMC6947442, not PMC1/);
  });
});
