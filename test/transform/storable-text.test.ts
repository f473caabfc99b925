import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toUpsertRow } from '../../src/load/upsert-row.js';
import { transformPubmedRecord } from '../../src/transform/index.js';
import { indexableText, MAX_INDEXED_BYTES, storableText, withStorableText } from '../../src/transform/storable-text.js';
import { fixtureText, recordChunks } from './pubmed-fixtures.js';

const SEED_PMID = 31810187;
const seedXml = recordChunks(fixtureText('seed/efetch-pubmed-31810187.xml'))[0]?.xml ?? '';
const transformSeed = (xml: string) => transformPubmedRecord({ pmid: SEED_PMID, kind: 'article', xml });

/** Text no compression shortens (base64 of hashes), so its length is what an index entry holds. */
function incompressible(length: number, seed: string): string {
  let text = '';
  for (let i = 0; text.length < length; i += 1) text += createHash('sha512').update(`${seed}${i}`).digest('base64');
  return text.slice(0, length);
}

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('text the catalogue cannot store', () => {
  it('loses NUL, the C0 controls XML forbids, U+FFFE, U+FFFF and unpaired surrogates, and nothing else', () => {
    expect(storableText('a\0b\x01c\x08d\x0Be\x0Cf\x1Fg\uFFFEh\uFFFFi')).toBe('abcdefghi');
    expect(storableText('lone \uD800high and \uDC00low')).toBe('lone high and low');
    const kept = 'tab\tline\nreturn\r pair 😀 replacement \uFFFD nbsp\u00A0 del\x7F Ω';
    expect(storableText(kept)).toBe(kept);
  });

  it('cleans every string of a nested value and returns clean parts as they are', () => {
    const clean = { list: ['x'], n: 1 };
    const value = { title: 'A\0B', authors: [{ lastName: 'Sm\x01ith' }], clean };
    const cleaned = withStorableText(value);
    expect(cleaned).toEqual({ title: 'AB', authors: [{ lastName: 'Smith' }], clean });
    expect(cleaned.clean).toBe(clean);
    expect(value.title).toBe('A\0B');
  });

  it('cuts an indexed value to MAX_INDEXED_BYTES of UTF-8 without splitting a character', () => {
    expect(indexableText('a'.repeat(3000))).toBe('a'.repeat(MAX_INDEXED_BYTES));
    expect(indexableText('😀'.repeat(1000))).toBe('😀'.repeat(MAX_INDEXED_BYTES / 4));
    expect(indexableText('é'.repeat(999) + '€€€')).toBe('é'.repeat(999));
    expect(utf8Bytes(indexableText('x' + '€'.repeat(1000)))).toBe(1 + 3 * 666);
    const short = 'Journal of clinical medicine';
    expect(indexableText(short)).toBe(short);
  });
});

describe('a PubMed record with values the catalogue cannot store as they are', () => {
  it('transforms to exactly the record, facets and hash it has without the forbidden characters', () => {
    const dirty = seedXml
      .replace('<ArticleTitle>Short', '<ArticleTitle>\0Short\x01')
      .replace('<LastName>Iacobaeus', '<LastName>Iaco\x0Bbaeus\uFFFE')
      .replace('<AbstractText>Bone', '<AbstractText>&#x1;Bone\uFFFF')
      .replace('<Title>Journal', '<Title>\x1FJournal');
    expect(dirty).not.toBe(seedXml);

    const { sourceXml, ...cleaned } = transformSeed(dirty);
    const { sourceXml: _original, ...expected } = transformSeed(seedXml);

    expect(cleaned).toEqual(expected);
    expect(sourceXml).toBe(dirty);
  });

  it('keeps a 3,000-character author, journal and DOI whole in the record and cuts them in indexed columns', () => {
    const author = incompressible(3000, 'author');
    const journal = incompressible(3000, 'journal');
    const doi = `10.1000/${incompressible(2992, 'doi')}`;
    const xml = seedXml
      .replace('<LastName>Iacobaeus</LastName>', `<LastName>${author}</LastName>`)
      .replace('<Title>Journal of clinical medicine</Title>', `<Title>${journal}</Title>`)
      .replaceAll('>10.3390/jcm8122102<', `>${doi}<`);

    const transformed = transformSeed(xml);
    const row = toUpsertRow(transformed);

    expect(transformed.record.author?.[0]).toBe(`${author}, Ellen`);
    expect(transformed.derived.container_title).toBe(journal);
    expect(transformed.derived.doi_str_mv).toEqual([doi]);
    expect(JSON.parse(row.record_json).author[0]).toBe(`${author}, Ellen`);
    const facet = (name: string) => row.facet_values.filter((_, index) => row.facet_names[index] === name);
    expect(facet('author')[0]).toBe(author.slice(0, MAX_INDEXED_BYTES));
    expect(facet('journal')).toEqual([journal.slice(0, MAX_INDEXED_BYTES)]);
    expect(row.journal).toBe(journal.slice(0, MAX_INDEXED_BYTES));
    expect(row.doi).toBe(doi.slice(0, MAX_INDEXED_BYTES));
  });

  it('counts the U+FFFD characters that bytes which are not UTF-8 become, and stores the XML without NUL', () => {
    const [before, after] = seedXml.split('<AbstractText>');
    const bytes = Buffer.concat([
      Buffer.from(`${before}<AbstractText>`, 'utf8'),
      Buffer.from([0xc3, 0x28, 0xff]),
      Buffer.from(`\0${after}`, 'utf8'),
    ]);
    const decoded = bytes.toString('utf8');

    const row = toUpsertRow(transformSeed(decoded));

    expect(row.replacement_characters).toBe(2);
    expect(row.pubmed_xml).toBe(decoded.replace('\0', ''));
    expect(toUpsertRow(transformSeed(seedXml)).replacement_characters).toBe(0);
  });
});
