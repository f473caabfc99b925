/**
 * The transform stage: the one call the pipeline makes per record. Pure (no I/O, no shared
 * state), so it runs as well on a worker thread as on the main one.
 */
import { InputError } from '../errors.js';
import { parsePmcSummary, type PmcSummary } from './parse/esummary-parser.js';
import { parsePmcArticle, type PmcArticle } from './parse/pmc-parser.js';
import { parsePubmedRecord } from './parse/pubmed-parser.js';
import { articleId } from './parse/pubmed-record.js';
import type { PmcRecordXml, PubmedRecordXml } from '../extract/types.js';
import { deriveFields } from './derived.js';
import { facets } from './facets.js';
import { canonicalContent } from './hash.js';
import { toCatalogueRecord } from './record.js';
import { withStorableText } from './storable-text.js';
import type { TransformedRecord } from './types.js';

/**
 * The version of the mapping from source XML to catalogue record. Raise it with every change that
 * can alter a record built from the same XML: each record stores the version that built it, and
 * `pubcat retransform --outdated` rebuilds those built by an older one.
 */
export const TRANSFORM_VERSION = 1;

export { deriveFields } from './derived.js';
export { facets } from './facets.js';
export { contentHash } from './hash.js';
export { toCatalogueRecord, type PmcData } from './record.js';

/** The PMC parts stored with a record, kept when a source brings none. */
export type StoredPmcParts = Pick<PmcRecordXml, 'articleXml' | 'summaryXml'>;

/**
 * Parses one PubMed record (and its PMC article and summary, when given) and turns it into
 * everything the load stage writes. A PMC part the source did not bring is taken from `stored`,
 * when the record has a PMC id: sources without PMC parts must not undo those of another. Throws
 * XmlParseError for XML that does not parse, and InputError when the XML is not the record it is
 * labelled as (a PMID or PMC id mismatch).
 */
export function transformPubmedRecord(input: PubmedRecordXml, brought?: PmcRecordXml, stored?: StoredPmcParts): TransformedRecord {
  // Cleaned as parsed (storable-text.ts), so nothing derived from the text can hold what the
  // catalogue cannot store.
  const pubmed = withStorableText(parsePubmedRecord(input.xml, `PubMed record ${input.pmid}`));
  if (pubmed.pmid !== input.pmid) {
    throw new InputError(`PubMed record labelled ${input.pmid} holds PMID ${pubmed.pmid}`, {
      input: input.pmid,
    });
  }
  const ownPmcid = articleId(pubmed, 'pmc');
  if (brought !== undefined && brought.pmcid !== ownPmcid) {
    throw new InputError(`PMID ${pubmed.pmid} has PMC id ${ownPmcid ?? 'none'}, not ${brought.pmcid}`, {
      input: brought.pmcid,
    });
  }
  const pmc = withStoredParts(ownPmcid, brought, stored);
  const source = `PMC ${pmc?.pmcid}`;
  const article: PmcArticle | undefined =
    pmc?.articleXml === undefined ? undefined : withStorableText(parsePmcArticle(pmc.articleXml, `${source} article`));
  const summary: PmcSummary | undefined =
    pmc?.summaryXml === undefined ? undefined : withStorableText(parsePmcSummary(pmc.summaryXml, `${source} summary`));

  const record = toCatalogueRecord(pubmed, { article, summary });
  const derived = deriveFields(pubmed);
  return {
    pmid: pubmed.pmid,
    catalogueId: record.id,
    record,
    derived,
    facets: facets(record, derived),
    ...canonicalContent(record, derived),
    sourceXml: input.xml,
    ...(pmc?.articleXml === undefined ? {} : { pmcArticleXml: pmc.articleXml }),
    ...(pmc?.summaryXml === undefined ? {} : { pmcSummaryXml: pmc.summaryXml }),
  };
}

function withStoredParts(pmcid: string | undefined, brought: PmcRecordXml | undefined, stored: StoredPmcParts | undefined): PmcRecordXml | undefined {
  if (pmcid === undefined || stored === undefined) return brought;
  const articleXml = brought?.articleXml ?? stored.articleXml;
  const summaryXml = brought?.summaryXml ?? stored.summaryXml;
  return {
    pmcid,
    ...(articleXml === undefined ? {} : { articleXml }),
    ...(summaryXml === undefined ? {} : { summaryXml }),
  };
}
