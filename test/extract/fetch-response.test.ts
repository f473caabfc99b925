import { describe, expect, it } from 'vitest';
import { cutPubmedArticleSet } from '../../src/extract/efetch-response.js';
import { XmlParseError } from '../../src/errors.js';
import { pubmedArticleSet } from '../support/fake-eutils-bodies.js';
import { readFixture } from '../support/ncbi-fixtures.js';

describe('cutPubmedArticleSet', () => {
  it('cuts a response into the exact bytes of each record, in order, with its PMID', () => {
    const xml = readFixture('ncbi/biopython/pubmed1.xml');
    const { records, deleted } = cutPubmedArticleSet(xml);
    expect(records.map((record) => record.pmid)).toEqual([12091962, 9997]);
    expect(deleted).toEqual([]);
    for (const record of records) {
      expect(record.kind).toBe('article');
      expect(record.xml.startsWith('<PubmedArticle>')).toBe(true);
      expect(record.xml.endsWith('</PubmedArticle>')).toBe(true);
    }
    const [first, second] = records;
    expect(xml.indexOf(first!.xml)).toBeLessThan(xml.indexOf(second!.xml));
  });

  it("takes the PMC id from the article's own ArticleIdList, not from its references", () => {
    const [article] = cutPubmedArticleSet(readFixture('ncbi/metapub/24349601.xml')).records;
    expect(article?.pmcid).toBe('PMC3858957');
    // The GeneReviews book cites PMC articles but has no PMC id of its own.
    const [book] = cutPubmedArticleSet(readFixture('ncbi/metapub/sample_article_20301577.xml')).records;
    expect(book?.xml).toContain('IdType="pmc"');
    expect(book?.pmcid).toBeUndefined();
  });

  it('reads book records with their BookDocument PMID', () => {
    const [book] = cutPubmedArticleSet(readFixture('ncbi/metapub/sample_article_20301577.xml')).records;
    expect(book).toMatchObject({ pmid: 20301577, kind: 'book' });
    expect(book?.xml.startsWith('<PubmedBookArticle>')).toBe(true);
  });

  it('takes the first PMID of a record, not those of the records it comments on', () => {
    const [record] = cutPubmedArticleSet(readFixture('ncbi/pubmed-client-rs/32887691.xml')).records;
    expect(record?.xml).toMatch(/<CommentsCorrections[^>]*>.*?<PMID[^>]*>(?!32887691)\d+</);
    expect(record?.pmid).toBe(32887691);
  });

  it('lists DeleteCitation PMIDs as deleted', () => {
    const [record] = cutPubmedArticleSet(readFixture('ncbi/biopython/pubmed2.xml')).records;
    const { records, deleted } = cutPubmedArticleSet(pubmedArticleSet([record!.xml], [26432306, 111]));
    expect(records.map((piece) => piece.pmid)).toEqual([11748933]);
    expect(deleted).toEqual([26432306, 111]);
  });

  it('accepts an empty set (what NCBI sends when it knows none of the PMIDs)', () => {
    expect(cutPubmedArticleSet(readFixture('ncbi/metapub/37909814.xml'))).toEqual({ records: [], deleted: [] });
  });

  it('reads the older pretty-printed format with blank lines between records', () => {
    const { records } = cutPubmedArticleSet(readFixture('ncbi/biomedquery-jl/efetch_sample.xml'));
    expect(records.map((record) => record.pmid)).toEqual([27483622, 27451595, 27451590, 27396145, 27396098, 27396095, 27382691, 27382686, 27373092, 27373039]);
  });

  it('refuses every truncation of a response, wherever it is cut', () => {
    const xml = readFixture('ncbi/biopython/pubmed2.xml');
    const rootClose = xml.lastIndexOf('</PubmedArticleSet>');
    for (let cut = 0; cut < rootClose + 18; cut += 97) {
      expect(() => cutPubmedArticleSet(xml.slice(0, cut)), `cut at ${cut}`).toThrow(XmlParseError);
    }
  });

  it('refuses an error answer and an unexpected element inside the set', () => {
    expect(() => cutPubmedArticleSet('<?xml version="1.0" ?><eFetchResult><ERROR>Timeout</ERROR></eFetchResult>')).toThrow(/expected root <PubmedArticleSet>/);
    expect(() => cutPubmedArticleSet('<PubmedArticleSet><ErrorList><CannotRetrievePMID>1</CannotRetrievePMID></ErrorList></PubmedArticleSet>')).toThrow(
      /unexpected <ErrorList>/,
    );
    expect(() => cutPubmedArticleSet('<PubmedArticleSet><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>')).toThrow(/without a readable <PMID>/);
  });

  it('refuses content after the root element closes', () => {
    const xml = readFixture('ncbi/biopython/pubmed2.xml');
    expect(() => cutPubmedArticleSet(`${xml}<PubmedArticle>`)).toThrow(/after the root element/);
    expect(cutPubmedArticleSet(`${xml}\n`).records).toHaveLength(2);
  });
});
