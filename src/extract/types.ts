/**
 * What the extract stage hands on: NCBI's XML cut into one piece per record, verified complete,
 * but not yet parsed. Parsing happens later (on worker threads in a backfill) and the exact
 * bytes are kept as the record's source XML, so a transform change can be re-applied offline.
 */

/** One `<PubmedArticle>` or `<PubmedBookArticle>` element exactly as NCBI sent it. */
export interface PubmedRecordXml {
  pmid: number;
  kind: 'article' | 'book';
  xml: string;
  /** The article's own PMC id (`PMC6947442`) from `PubmedData/ArticleIdList`, when it has one. */
  pmcid?: string;
}

/** What PMC returned for one PMC id; either part may be absent when that call failed. */
export interface PmcRecordXml {
  pmcid: string;
  /** One JATS `<article>` element from efetch db=pmc. */
  articleXml?: string;
  /** One `<DocSum>` (or `<DocumentSummary>`) element from esummary db=pmc. */
  summaryXml?: string;
}

/** A PMID given up after every retry and split, with the last reason. */
export interface FailedPmid {
  pmid: number;
  reason: string;
}

/** Every requested PMID ends in exactly one of these lists. */
export interface FetchPubmedResult {
  articles: PubmedRecordXml[];
  books: PubmedRecordXml[];
  /** PMIDs NCBI answered with `<DeleteCitation>`. */
  deleted: number[];
  /** Requested, not returned, and not returned when asked again singly. */
  missing: number[];
  failed: FailedPmid[];
  /** PMC data for the articles above that have a PMC id (absent with `pmc: false`). */
  pmc: Map<string, PmcRecordXml>;
}
