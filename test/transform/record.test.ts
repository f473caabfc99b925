import { describe, expect, it } from 'vitest';
import { parsePmcSummarySet } from '../../src/transform/parse/esummary-parser.js';
import { parsePmcArticle } from '../../src/transform/parse/pmc-parser.js';
import { parsePubmedSet } from '../../src/transform/parse/pubmed-parser.js';
import type { PubmedRecord } from '../../src/transform/parse/pubmed-record.js';
import { toCatalogueRecord } from '../../src/transform/index.js';
import { fixtureText, pubmedDocuments } from './pubmed-fixtures.js';

const seedPubmed = (): PubmedRecord => {
  const record = parsePubmedSet(fixtureText('seed/efetch-pubmed-31810187.xml')).records[0];
  if (record === undefined) throw new Error('seed PubMed record missing');
  return record;
};
const seedArticle = () => parsePmcArticle(fixtureText('seed/efetch-pmc-6947442.xml'));
const seedSummary = () => parsePmcSummarySet(fixtureText('seed/esummary-pmc-6947442.xml'))[0];
const expected = JSON.parse(fixtureText('seed-record/31810187.record.json')) as Record<string, unknown>;

function recordOf(relative: string, pmid?: number): PubmedRecord {
  const document = pubmedDocuments().find((d) => d.name === relative || d.name.startsWith(`${relative}#`));
  const records = parsePubmedSet(document?.xml ?? fixtureText(relative), relative).records;
  const record = pmid === undefined ? records[0] : records.find((r) => r.pmid === pmid);
  if (record === undefined) throw new Error(`no record ${pmid ?? ''} in ${relative}`);
  return record;
}

describe('toCatalogueRecord', () => {
  it('reproduces the seed record field for field from the three seed responses', () => {
    const record = toCatalogueRecord(seedPubmed(), { article: seedArticle(), summary: seedSummary() });
    expect(Object.keys(record).sort()).toEqual(Object.keys(expected).sort());
    expect(record).toStrictEqual(expected);
  });

  it('builds the PubMed-only record without PMC data: same id, no publisher or topic', () => {
    const record = toCatalogueRecord(seedPubmed());
    expect(record.id).toBe('pubmed-6947442');
    expect(record).not.toHaveProperty('publisher');
    expect(record).not.toHaveProperty('topic');
    expect(record.spellingShingle).toEqual((expected.spellingShingle as string[]).slice(1));
    for (const field of ['title', 'title_sort', 'author', 'author_sort', 'description', 'url', 'work_keys_str_mv', 'format', 'language', 'publishDate']) {
      expect(record[field as keyof typeof record], field).toEqual(expected[field]);
    }
    // spelling: the same order with what PubMed has: no datestamp, heading, publisher or licence.
    expect(record.spelling).toBe(
      (expected.spelling as string)
        .replace('pubmed-69474422020-01-13', 'pubmed-6947442')
        .replace(' J Clin Med Article ', ' J Clin Med ')
        .replace(' MDPI 2019-12-02', ' 2019-12-02')
        .replace(/ Text en .*$/, ' Text en'),
    );
  });

  it('gives an article without a PMC id the pmid- id and only PubMed and DOI links', () => {
    const record = toCatalogueRecord(recordOf('ncbi/metapub/38661995.xml'));
    expect(record.id).toBe('pmid-38661995');
    expect(record.url).toEqual([
      'https://www.ncbi.nlm.nih.gov/pubmed/38661995',
      'http://dx.doi.org/10.1353/nib.2023.a924193',
    ]);
  });

  it('uses the VernacularTitle for a bracketed translated title and maps the language', () => {
    const record = toCatalogueRecord(recordOf('ncbi/metapub/38048813.xml'));
    expect(record.title).toBe('A Broader Scope \u2013 Bio-psycho-soziale Medizin im globalen Fokus');
    expect(record.title_sort).toBe('broader scope \u2013 bio-psycho-soziale medizin im globalen fokus');
    expect(record.language).toEqual(['German']);
    expect(record).not.toHaveProperty('description');
  });

  it('strips the brackets of a translated title with no VernacularTitle', () => {
    const pubmed = { ...recordOf('ncbi/metapub/38048813.xml'), vernacularTitle: undefined };
    expect(toCatalogueRecord(pubmed).title).toBe('A Broader Scope - Bio-Psycho-Social Medicine In Global Focus');
  });

  it('builds book records: pmid- id, books URL, publisher, Book format, chapter title', () => {
    const record = toCatalogueRecord(recordOf('ncbi/metapub/sample_article_20301577.xml'));
    expect(record).toMatchObject({
      id: 'pmid-20301577',
      title: 'CACNA1C-Related Disorders',
      format: ['Online', 'Book', 'Text'],
      publisher: ['University of Washington, Seattle'],
      url: ['https://www.ncbi.nlm.nih.gov/books/NBK1403/', 'https://www.ncbi.nlm.nih.gov/pubmed/20301577'],
      author: ['Napolitano, Carlo', 'Priori, Silvia G'],
      publishDate: ['1993'],
    });
    expect(record.description).toMatch(/^CLINICAL CHARACTERISTICS: The clinical manifestations of CACNA1C-related/);
  });

  it('writes group authors as named, space-normalised, in document order', () => {
    const record = toCatalogueRecord(recordOf('ncbi/hawc/TestPubMedFetch.test_book.yaml'));
    expect(record.author?.[0]).toBe('Committee on Predictive-Toxicology Approaches for Military Assessments of Acute Exposures');
    expect(record.author_sort).toBe(record.author?.[0]);
    expect(record.work_keys_str_mv?.[1]).toMatch(/^AT committeeontoxicology applicationofmoderntoxicology/);
  });

  it('labels structured abstract sections "LABEL: text"', () => {
    const record = toCatalogueRecord(recordOf('ncbi/biopython/pubmed5.xml'));
    expect(record.description).toMatch(/^OBJECTIVES: .+ METHODS: .+ RESULTS: /s);
  });

  it('takes the year from MedlineDate and Season dates', () => {
    const medline = parsePubmedSet(fixtureText('ncbi/biomedquery-jl/efetch_sample.xml')).records.find(
      (r) => r.pubDate?.medlineDate === '2015 Oct-Dec',
    );
    expect(toCatalogueRecord(medline as PubmedRecord).publishDate).toEqual(['2015']);
    expect(toCatalogueRecord(recordOf('ncbi/biopython/pubmed1.xml', 9997)).publishDate).toEqual(['1976']);
  });

  it('writes suffixes after the given name and skips invalid authors', () => {
    const withSuffix = toCatalogueRecord(recordOf('ncbi/metapub/26568896.xml'));
    expect(withSuffix.author).toContain('Wise, John Pierce, Sr');
    const seed = seedPubmed();
    const invalid = { ...seed, authors: seed.authors.map((a, i) => (i === 0 ? { ...a, valid: false } : a)) };
    const record = toCatalogueRecord(invalid);
    expect(record.author?.[0]).toBe('Kadri, Nadir');
    expect(record.author_sort).toBe('Kadri, Nadir');
    expect(record.work_keys_str_mv).toHaveLength(8);
  });

  it('omits the description when there is no abstract', () => {
    const record = toCatalogueRecord(recordOf('ncbi/biopython/pubmed1.xml', 12091962));
    expect(record).not.toHaveProperty('description');
    expect(record.spelling).not.toMatch(/undefined/);
  });
});
