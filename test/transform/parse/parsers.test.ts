import { describe, expect, it } from 'vitest';
import { EutilsError, XmlParseError } from '../../../src/errors.js';
import { parsePmcSummary, parsePmcSummarySet } from '../../../src/transform/parse/esummary-parser.js';
import { parsePmcArticle, parsePmcArticleSet } from '../../../src/transform/parse/pmc-parser.js';
import { parsePubmedRecord, parsePubmedSet } from '../../../src/transform/parse/pubmed-parser.js';
import { articleId, type PubmedRecord } from '../../../src/transform/parse/pubmed-record.js';
import { fixtureText, pubmedDocuments, recordChunks } from '../pubmed-fixtures.js';

const SEED_PUBMED = fixtureText('seed/efetch-pubmed-31810187.xml');

function onlyRecord(relative: string): PubmedRecord {
  const { records } = parsePubmedSet(fixtureText(relative), relative);
  expect(records).toHaveLength(1);
  return records[0] as PubmedRecord;
}

function cassetteRecords(name: string): PubmedRecord[] {
  return pubmedDocuments()
    .filter((document) => document.name.startsWith(`ncbi/hawc/${name}`))
    .flatMap((document) => parsePubmedSet(document.xml, document.name).records);
}

describe('parsePubmedSet', () => {
  it('reads the seed article with its own ids, dates, journal and inline markup as (x)', () => {
    const record = onlyRecord('seed/efetch-pubmed-31810187.xml');
    expect(record).toMatchObject({
      kind: 'article',
      pmid: 31810187,
      languages: ['eng'],
      pubDate: { year: '2019', month: 'Dec', day: '02' },
      electronicDate: { year: '2019', month: '12', day: '02' },
      journal: { medlineTA: 'J Clin Med', volume: '8', issue: '12' },
    });
    expect(articleId(record, 'pmc')).toBe('PMC6947442');
    expect(record.abstract?.[0]?.text).toContain('(1\u20132 \u00d7 10(6) MSCs/kg body weight)');
    expect(record.abstract?.[0]?.text).toContain('FOXP3(+) Tregs');
  });

  it('takes ids only from PubmedData, never from the cited works in the ReferenceList', () => {
    const xml = fixtureText('ncbi/metapub/24349601.xml');
    expect(xml.match(/IdType="pmc"/g)?.length).toBeGreaterThan(1);
    const record = onlyRecord('ncbi/metapub/24349601.xml');
    expect(record.articleIds.filter((id) => id.type === 'pmc')).toHaveLength(1);
    expect(record.articleIds.find((id) => id.type === 'pubmed')?.value).toBe('24349601');
  });

  it('keeps structured abstract labels and categories in order', () => {
    const labels = (record: PubmedRecord) => record.abstract?.map((s) => [s.label, s.category]);
    expect(labels(onlyRecord('ncbi/biopython/pubmed4.xml'))).toEqual([
      ['OBJECTIVE', undefined], ['DESIGN', undefined], ['RESULTS', undefined], ['CONCLUSIONS', undefined],
    ]);
    expect(labels(onlyRecord('ncbi/biopython/pubmed5.xml'))?.slice(0, 2)).toEqual([
      ['OBJECTIVES', 'OBJECTIVE'], ['METHODS', 'METHODS'],
    ]);
  });

  it('reads CollectiveName group authors between personal ones', () => {
    const record = onlyRecord('ncbi/biopython/pubmed7.xml');
    expect(record.authors.map((a) => a.collectiveName).filter(Boolean)).toEqual([
      'Canadian Respiratory Research Network',
    ]);
  });

  it('reads MedlineDate and Season publication dates', () => {
    const sample = parsePubmedSet(fixtureText('ncbi/biomedquery-jl/efetch_sample.xml')).records;
    expect(sample.map((r) => r.pubDate?.medlineDate).filter(Boolean)).toContain('2016 May-Jun');
    const spring = parsePubmedSet(fixtureText('ncbi/biopython/pubmed1.xml')).records;
    expect(spring.map((r) => r.pubDate?.season)).toContain('Spring');
  });

  it('reads the bracketed translated title beside the VernacularTitle, decoding &#x2013;', () => {
    const record = onlyRecord('ncbi/metapub/38048813.xml');
    expect(record.articleTitle).toBe('[A Broader Scope - Bio-Psycho-Social Medicine In Global Focus].');
    expect(record.vernacularTitle).toBe('A Broader Scope \u2013 Bio-psycho-soziale Medizin im globalen Fokus.');
    expect(record.languages).toEqual(['ger']);
  });

  it('reads PubmedBookArticle: book title, publisher, accession, chapter authors without editors', () => {
    const record = onlyRecord('ncbi/metapub/sample_article_20301577.xml');
    expect(record).toMatchObject({
      kind: 'book',
      pmid: 20301577,
      articleTitle: 'CACNA1C-Related Disorders',
      bookTitle: 'GeneReviews(\u00ae)',
      publisher: { name: 'University of Washington, Seattle', location: 'Seattle (WA)' },
    });
    expect(articleId(record, 'bookaccession')).toBe('NBK1403');
    expect(record.authors.map((a) => a.lastName)).toEqual(['Napolitano', 'Priori']);
  });

  it('decodes numeric character references and raw UTF-8 alike', () => {
    const names = cassetteRecords('TestPubMedFetch.test_utf8').flatMap((r) => r.authors.map((a) => a.lastName));
    expect(names).toContain('Gonz\u00e1lez-Reyes');
    const raw = onlyRecord('ncbi/biopython/pubmed6.xml');
    expect(raw.abstract?.[0]?.text).toContain('(coefficient of variation: \u22487%)');
  });

  it('flattens MathML inside an abstract to its text, without layout whitespace', () => {
    const text = onlyRecord('ncbi/biopython/pubmed6.xml').abstract?.[0]?.text ?? '';
    expect(text).toContain('maximal oxygen uptake ( V.O2max ) 67.6');
    expect(text).toContain('"Minimum Lactate Equivalent" (LE(min))');
  });

  it('returns PMID 1 for the id=-1 request, as NCBI answered it', () => {
    expect(cassetteRecords('TestStudyViewSet.test_create_from_identifier_bad_requests').map((r) => r.pmid)).toEqual([1]);
  });

  it('returns no records for an empty efetch result', () => {
    expect(parsePubmedSet(fixtureText('ncbi/metapub/37909814.xml'))).toEqual({ records: [], deleted: [] });
  });

  it('keeps author suffixes', () => {
    const authors = onlyRecord('ncbi/metapub/26568896.xml').authors;
    expect(authors).toContainEqual(expect.objectContaining({ lastName: 'Wise', foreName: 'John Pierce', suffix: 'Sr' }));
  });

  it('marks ValidYN="N" authors invalid', () => {
    const xml = SEED_PUBMED.replace('<Author ValidYN="Y"><LastName>Kadri', '<Author ValidYN="N"><LastName>Kadri');
    const authors = parsePubmedSet(xml).records[0]?.authors ?? [];
    expect(authors.filter((a) => !a.valid).map((a) => a.lastName)).toEqual(['Kadri']);
  });

  it('reads the MedlineCitationSet bulk format and its DeleteCitation', () => {
    const bulk = pubmedDocuments().find((d) => d.name.endsWith('medline16n0902.xml.gz'));
    const set = parsePubmedSet(bulk?.xml ?? '', 'medline16n0902');
    expect(set.records).toHaveLength(604);
    expect(set.deleted).toEqual([26432306]);
  });

  it('rejects truncated, mis-nested and non-XML input with the document and position', () => {
    const truncated = SEED_PUBMED.slice(0, Math.floor(SEED_PUBMED.length / 2));
    expect(() => parsePubmedSet(truncated, 'efetch batch 7')).toThrow(XmlParseError);
    expect(() => parsePubmedSet(truncated, 'efetch batch 7')).toThrow(/^efetch batch 7: .* at line 4, column \d+/);
    expect(() => parsePubmedSet('<PubmedArticleSet><PubmedArticle></PubmedArticleSet>')).toThrow(
      /<\/PubmedArticleSet> where <\/PubmedArticle> was expected/,
    );
    expect(() => parsePubmedSet('Service unavailable')).toThrow(/text outside the root element/);
    const cutInReferences = fixtureText('ncbi/metapub/24349601.xml').split('</ReferenceList>')[0] ?? '';
    expect(() => parsePubmedSet(cutInReferences, 'refs')).toThrow(/<ReferenceList> opened at .* never closed/);
  });

  it('never expands entities a document defines for itself', () => {
    const xml = `<!DOCTYPE PubmedArticleSet [<!ENTITY lol "lollollollollollol">]>${SEED_PUBMED.replace(/^[\s\S]*?<PubmedArticleSet>/, '<PubmedArticleSet>').replace('Bone marrow', '&lol; Bone marrow')}`;
    expect(parsePubmedSet(xml).records[0]?.abstract?.[0]?.text.startsWith('&lol; Bone marrow')).toBe(true);
  });
});

describe('parsePubmedRecord', () => {
  it('reads one record element cut from a response, articles and books', () => {
    const [article] = recordChunks(SEED_PUBMED);
    expect(parsePubmedRecord(article?.xml ?? '').pmid).toBe(31810187);
    expect(parsePubmedRecord(fixtureText('ncbi/pymed/test_article.xml')).pubDate?.medlineDate).toBe('2019 May/Jun');
    const [book] = recordChunks(fixtureText('ncbi/eutils-json-klortho/efetch.pubmedbook.xml'));
    expect(parsePubmedRecord(book?.xml ?? '').kind).toBe('book');
  });

  it('refuses an element that is not a PubMed record', () => {
    expect(() => parsePubmedRecord('<DeleteCitation><PMID>1</PMID></DeleteCitation>', 'x')).toThrow(XmlParseError);
  });
});

describe('parsePmcArticle', () => {
  it('reads the seed front matter: publisher, heading, names, dates, permissions, language', () => {
    const article = parsePmcArticle(fixtureText('seed/efetch-pmc-6947442.xml'));
    expect(article).toMatchObject({
      pmcid: 'PMC6947442',
      pmid: 31810187,
      language: 'en',
      publisher: 'MDPI',
      headings: ['Article'],
      journalNlmTa: 'J Clin Med',
      copyrightStatements: ['\u00a9 2019 by the authors.'],
    });
    expect(article.authors[8]).toEqual({ surname: 'Blanc', givenNames: 'Katarina Le' });
    expect(article.pubDates.map((d) => d.type)).toEqual(['epub', 'collection']);
    expect(article.licenseTexts[0]).toMatch(/\(http:\/\/creativecommons.org\/licenses\/by\/4.0\/\)\.$/);
  });

  it('reads every article of a multi-article set, with or without a PMID', () => {
    const articles = parsePmcArticleSet(fixtureText('ncbi/pubget/articleset.xml'));
    expect(articles.map((a) => a.pmcid)).toEqual([
      'PMC9057060', 'PMC9056525', 'PMC9056519', 'PMC9056514', 'PMC9054084', 'PMC9053995', 'PMC9053985',
    ]);
    expect(articles.filter((a) => a.pmid === undefined)).toHaveLength(2);
    expect(new Set(articles.map((a) => a.publisher))).toEqual(
      new Set(['BioMed Central', 'Nature Publishing Group UK', 'CMA Impact Inc.']),
    );
  });

  it('reads a bare OA-package article with labelled abstract sections', () => {
    const article = parsePmcArticle(fixtureText('ncbi/pubmed_parser/1471-2180-11-174.nxml'));
    expect(article.pmcid).toBe('PMC3166277');
    expect(article.abstract?.map((s) => s.label)).toEqual(['Background', 'Results', 'Conclusions']);
  });
});

describe('PMC esummary', () => {
  it('reads PmcLiveDate and ids per uid, keeping per-uid errors', () => {
    const summaries = parsePmcSummarySet(fixtureText('ncbi/eutils-json-klortho/esummary.pmcerror.xml'));
    expect(summaries.map((s) => [s.uid, s.liveDate ?? s.error])).toEqual([
      ['254085', '2003-12-01'],
      ['1', 'cannot get document summary'],
      ['14900', '2001-03-07'],
    ]);
  });

  it('reads one DocumentSummary element', () => {
    const xml = fixtureText('seed/esummary-pmc-6947442.xml');
    const element = /<DocumentSummary [\s\S]*<\/DocumentSummary>/.exec(xml)?.[0] ?? '';
    expect(parsePmcSummary(element)).toEqual({
      uid: '6947442', pmcid: 'PMC6947442', pmid: 31810187, doi: '10.3390/jcm8122102', liveDate: '2020-01-13',
    });
  });

  it('raises the request-level ERROR NCBI answered with', () => {
    expect(() => parsePmcSummarySet(fixtureText('ncbi/eutils-json-klortho/esummary.error.xml'))).toThrow(EutilsError);
  });
});
