/**
 * Real PubMed and PMC records from test/fixtures, ready to load into the fake E-utilities server,
 * and copies of them under new PMIDs for tests and benchmarks that need many records.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cutPubmedArticleSet } from '../../src/extract/efetch-response.js';
import { cutPmcArticleSet, cutPmcSummaries } from '../../src/extract/pmc-response.js';
import type { PubmedRecordXml } from '../../src/extract/types.js';

/** test/fixtures, seen from test/support (vitest) or from dist/test/support (benchmarks). */
const FIXTURE_DIRS = [new URL('../fixtures/', import.meta.url), new URL('../../../test/fixtures/', import.meta.url)];

/** Current-format efetch answers (DTD 2025, compact), by path under test/fixtures. */
export const PUBMED_FIXTURE_FILES = [
  'seed/efetch-pubmed-31810187.xml',
  'ncbi/biopython/pubmed1.xml',
  'ncbi/biopython/pubmed2.xml',
  'ncbi/metapub/24349601.xml',
  'ncbi/metapub/35354777.xml',
  'ncbi/metapub/38329942.xml',
  'ncbi/metapub/38661995.xml',
  'ncbi/metapub/39382274.xml',
  'ncbi/metapub/sample_article_20301577.xml',
  'ncbi/pubmed-client-rs/32887691.xml',
  'ncbi/pubmed-client-rs/36789012.xml',
];

export function readFixture(path: string): string {
  const file = FIXTURE_DIRS.map((dir) => fileURLToPath(new URL(path, dir))).find((candidate) => existsSync(candidate));
  if (file === undefined) throw new Error(`fixture not found: ${path}`);
  return readFileSync(file, 'utf8');
}

export function loadPubmedFixtureRecords(): PubmedRecordXml[] {
  return PUBMED_FIXTURE_FILES.flatMap((path) => cutPubmedArticleSet(readFixture(path)).records);
}

/** The seed article's PMC front matter and summary (PMC6947442). */
export function loadSeedPmc(): { article: { pmcid: string; xml: string }; summary: { pmcid: string; xml: string } } {
  const [article] = cutPmcArticleSet(readFixture('seed/efetch-pmc-6947442.xml'));
  const [summary] = cutPmcSummaries(readFixture('seed/esummary-pmc-6947442.xml'));
  if (article === undefined || summary === undefined) throw new Error('seed PMC fixtures hold no record');
  return { article: { pmcid: article[0], xml: article[1] }, summary: { pmcid: summary[0], xml: summary[1] } };
}

/**
 * Copies of `templates` (round robin over the articles) under the given PMIDs. The copies carry
 * no PMC id, so fetching them costs PubMed requests only.
 */
export function replicateRecords(templates: readonly PubmedRecordXml[], pmids: readonly number[]): { pmid: number; xml: string }[] {
  const copy = copier(templates);
  return pmids.map((pmid, index) => ({ pmid, xml: copy(index, pmid) }));
}

/**
 * The same copies made on demand, for PMIDs `first` to `first + count - 1`: for the fake server's
 * `addPubmedSource`, when holding every copy would take gigabytes.
 */
export function replicatedRecordSource(templates: readonly PubmedRecordXml[], first: number, count: number): (pmid: number) => string | undefined {
  const copy = copier(templates);
  return (pmid) => (pmid >= first && pmid < first + count ? copy(pmid - first, pmid) : undefined);
}

function copier(templates: readonly PubmedRecordXml[]): (index: number, pmid: number) => string {
  const articles = templates
    .filter((template) => template.kind === 'article')
    .map((template) => ({ pmid: template.pmid, xml: template.xml.replace(/<ArticleId IdType="pmc">PMC\d+<\/ArticleId>/g, '') }));
  return (index, pmid) => {
    const template = articles[index % articles.length] as { pmid: number; xml: string };
    return template.xml.replace(`>${template.pmid}</PMID>`, `>${pmid}</PMID>`);
  };
}
