/**
 * NCBI bulk files built from fixture records, as NCBI publishes them: a `PubmedArticleSet` with
 * records and DeleteCitations, plain or gzipped, with an `.md5` sidecar in NCBI's form.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { JobContext } from '../../jobs/context.js';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { createBatchTransformer } from '../../src/pipeline/transform-pool.js';
import type { CatalogueDatabase } from '../../src/load/db.js';
import { loadPubmedFixtureRecords, replicateRecords } from './ncbi-fixtures.js';

/** Fixture articles (no PMC id) under the given PMIDs. */
export function articles(pmids: readonly number[]): Array<{ pmid: number; xml: string }> {
  return replicateRecords(loadPubmedFixtureRecords(), pmids);
}

/** The record as NCBI would send it after revising it on `date` (YYYY-MM-DD), with `note` in its title. */
export function revised(xml: string, date: string, note: string): string {
  const [year, month, day] = date.split('-');
  const dated = xml.replace(/<DateRevised>[\s\S]*?<\/DateRevised>/, `<DateRevised><Year>${year}</Year><Month>${month}</Month><Day>${day}</Day></DateRevised>`);
  if (dated === xml) throw new Error('the record has no DateRevised to revise');
  return dated.replace(/<ArticleTitle>/, `<ArticleTitle>${note} `);
}

export interface BulkFileContent {
  records: readonly string[];
  deleted?: readonly number[];
}

export function bulkXml({ records, deleted = [] }: BulkFileContent): string {
  const deletions = deleted.length === 0 ? '' : `<DeleteCitation>\n${deleted.map((pmid) => `<PMID Version="1">${pmid}</PMID>`).join('\n')}\n</DeleteCitation>\n`;
  return (
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n' +
    `<PubmedArticleSet>\n${records.join('\n')}\n${deletions}</PubmedArticleSet>\n`
  );
}

/** Writes `name` (gzipped when it ends in .gz) into `dir`, with its md5 sidecar unless `md5: false`; returns its path. */
export function writeBulkFile(dir: string, name: string, content: BulkFileContent | Buffer, options: { md5?: boolean } = {}): string {
  const path = join(dir, name);
  const text = Buffer.isBuffer(content) ? content : Buffer.from(bulkXml(content));
  const bytes = name.endsWith('.gz') && !Buffer.isBuffer(content) ? gzipSync(text) : text;
  writeFileSync(path, bytes);
  if (options.md5 !== false) writeFileSync(`${path}.md5`, `MD5(${name})= ${createHash('md5').update(bytes).digest('hex')}\n`);
  return path;
}

/** A job context for imports in this process: transform inline, no E-utilities call ever made. */
export function importContext(database: CatalogueDatabase, batchSize = 10): JobContext {
  return {
    database,
    client: new EutilsClient({ baseUrl: 'http://127.0.0.1:9/', tool: 'pubcat-test', maxRps: 1, backoff: {}, requestTimeoutMs: 1_000 }),
    transformer: createBatchTransformer(0),
    logger: pino({ level: 'silent' }),
    settings: { batchSize, pmc: false, batchesInFlight: 3 },
  };
}
