/**
 * Response bodies of the fake E-utilities server, in NCBI's current formats (see
 * test/fixtures/ncbi/SOURCES.md): the result sets, and the error answers NCBI is known to send.
 */

export type Utility = 'efetch' | 'esearch' | 'esummary';

export function pubmedArticleSet(records: readonly string[], deleted: readonly number[]): string {
  const deletions = deleted.length === 0 ? '' : `<DeleteCitation>${deleted.map((pmid) => `<PMID Version="1">${pmid}</PMID>`).join('')}</DeleteCitation>`;
  return (
    '<?xml version="1.0" ?>\n' +
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n' +
    `<PubmedArticleSet>\n${records.join('\n')}${deletions}</PubmedArticleSet>`
  );
}

export function pmcArticleSet(articles: readonly string[], unavailable: readonly string[]): string {
  const replies = unavailable.map((id) => `<Reply Id="${id}" error="The following PMCID is not available: ${id}"/>`).join('');
  return (
    '<?xml version="1.0" ?>\n' +
    '<!DOCTYPE pmc-articleset PUBLIC "-//NLM//DTD ARTICLE SET 2.0//EN" "https://dtd.nlm.nih.gov/ncbi/pmc/articleset/nlm-articleset-2.0.dtd">\n' +
    `<pmc-articleset>${articles.join('\n')}${replies}</pmc-articleset>`
  );
}

export function pmcSummarySet(summaries: readonly string[], unavailable: readonly string[]): string {
  const errors = unavailable.map((uid) => `<DocumentSummary uid="${uid}">\n<error>cannot get document summary</error>\n</DocumentSummary>\n`);
  return (
    '<?xml version="1.0" encoding="UTF-8" ?>\n' +
    '<!DOCTYPE eSummaryResult PUBLIC "-//NLM//DTD esummary pmc 20130425//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20130425/esummary_pmc.dtd">\n' +
    `<eSummaryResult>\n<DocumentSummarySet status="OK">\n${summaries.join('\n')}${errors.join('')}\n</DocumentSummarySet>\n</eSummaryResult>\n`
  );
}

export function esearchResult(page: { count: number; retstart: number; ids: readonly number[]; webEnv?: string; queryKey?: string; term: string }): string {
  const history = page.webEnv === undefined ? '' : `<QueryKey>${page.queryKey}</QueryKey><WebEnv>${page.webEnv}</WebEnv>`;
  const notFound = page.count === 0 ? `<ErrorList><PhraseNotFound>${escapeText(page.term)}</PhraseNotFound></ErrorList>` : '';
  return (
    '<?xml version="1.0" encoding="UTF-8" ?>\n' +
    '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" "https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n' +
    `<eSearchResult><Count>${page.count}</Count><RetMax>${page.ids.length}</RetMax><RetStart>${page.retstart}</RetStart>${history}<IdList>\n` +
    page.ids.map((id) => `<Id>${id}</Id>\n`).join('') +
    `</IdList><TranslationSet/><QueryTranslation>${escapeText(page.term)}</QueryTranslation>${notFound}</eSearchResult>\n`
  );
}

/** HTTP 200 with an `<ERROR>`: how NCBI reports backend failures (manubot #374, cyanheads #53). */
export function errorInBody(utility: Utility, message: string): string {
  const root = { efetch: 'eFetchResult', esearch: 'eSearchResult', esummary: 'eSummaryResult' }[utility];
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<${root}>\n\t<ERROR>${escapeText(message)}</ERROR>\n</${root}>\n`;
}

export const BACKEND_TIMEOUT_MESSAGE = 'Error: External viewer error: Empty Response. Bytes read: 0 Status: Timeout';

export const RETSTART_LIMIT_MESSAGE =
  "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, ESearch can only retrieve the first 9,999 records matching the query. To obtain more than 9,999 PubMed records, consider using EDirect that contains additional logic to batch PubMed search results automatically so that an arbitrary number can be retrieved. For details see https://www.ncbi.nlm.nih.gov/books/NBK25499/";

/** The proxy pages NCBI's front ends send on 5xx (titles as old Biopython recognised them). */
export function serverErrorPage(status: number): string {
  const title = status === 502 ? 'Bad Gateway!' : status === 503 ? 'Service unavailable!' : 'NCBI/eutils202 - WWW Error 500 Diagnostic';
  return `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html><head><title>${title}</title></head><body><h1>${title}</h1><p>This could be a transient problem, please try the query again.</p></body></html>\n`;
}

/** The page an IP gets when NCBI blocks it (biocommons/eutils #134 cached one as a result). */
export const BLOCKED_PAGE =
  '<!DOCTYPE html>\n<html><head><title>NCBI - WWW Error Blocked Diagnostic</title></head><body><h1>Access denied</h1><p>Your access to the NCBI website at www.ncbi.nlm.nih.gov has been temporarily blocked due to a possible misuse/abuse situation involving your site.</p></body></html>\n';

/** NCBI's 429 body; `api-key` is the caller's key, or its IP without one. */
export function rateLimitBody(apiKey: string, count: number, limit: number): string {
  return JSON.stringify({ error: 'API rate limit exceeded', 'api-key': apiKey, count: String(count), limit: String(limit) });
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
