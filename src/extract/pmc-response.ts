/**
 * Cuts PMC answers into one string per PMC id, after checking they are complete:
 * efetch db=pmc (`<pmc-articleset>` of JATS `<article>`s) and esummary db=pmc (`<DocumentSummary
 * uid>` in version 2.0, `<DocSum><Id>` in version 1). Ids PMC cannot serve (`<Reply … error>`,
 * a summary holding only `<error>`) are simply absent from the result.
 */
import { XmlParseError } from '../errors.js';
import { firstElementText, forEachChild, openRoot } from './xml-scan.js';

const ARTICLES = 'efetch db=pmc response';
const SUMMARIES = 'esummary db=pmc response';

/** JATS `<article>` strings keyed by PMC id (`PMC6947442`). */
export function cutPmcArticleSet(xml: string): Map<string, string> {
  const root = openRoot(xml, ['pmc-articleset'], ARTICLES);
  const articles = new Map<string, string>();
  forEachChild(xml, root.contentStart, root.contentEnd, ARTICLES, (child) => {
    if (child.name === 'Reply') return;
    if (child.name !== 'article') {
      throw new XmlParseError(`${ARTICLES}: unexpected <${child.name}> in <pmc-articleset>`, { input: ARTICLES });
    }
    const article = xml.slice(child.start, child.end);
    const pmcid = articlePmcid(article);
    if (pmcid === undefined) throw new XmlParseError(`${ARTICLES}: <article> without a PMC article-id`, { input: ARTICLES });
    articles.set(pmcid, article);
  });
  return articles;
}

/** `<DocumentSummary>` / `<DocSum>` strings keyed by PMC id. */
export function cutPmcSummaries(xml: string): Map<string, string> {
  const root = openRoot(xml, ['eSummaryResult'], SUMMARIES);
  const summaries = new Map<string, string>();
  const take = (from: number, to: number): void =>
    forEachChild(xml, from, to, SUMMARIES, (child) => {
      if (child.name === 'DocumentSummarySet') {
        // EDirect retries on this: the backend failed and left only a comment in the set.
        if (/<!--[^]*?fail/i.test(xml.slice(child.contentStart, child.contentEnd))) {
          throw new XmlParseError(`${SUMMARIES}: DocSum backend failure noted in the set`, { input: SUMMARIES });
        }
        take(child.contentStart, child.contentEnd);
        return;
      }
      if (child.name !== 'DocumentSummary' && child.name !== 'DocSum') {
        if (child.name === 'DbBuild') return;
        throw new XmlParseError(`${SUMMARIES}: unexpected <${child.name}>`, { input: SUMMARIES });
      }
      // Searched as its own string: a search that finds nothing then stops at the summary's end.
      const summary = xml.slice(child.start, child.end);
      const uid = child.name === 'DocSum' ? firstElementText(summary, 'Id', 0, summary.length) : /^<DocumentSummary[^>]*\suid="(\d+)"/.exec(summary)?.[1];
      if (uid === undefined || !/^\d+$/.test(uid.trim())) {
        throw new XmlParseError(`${SUMMARIES}: summary without a uid`, { input: SUMMARIES });
      }
      if (firstElementText(summary, 'error', 0, summary.length) !== undefined) return;
      summaries.set(`PMC${uid.trim()}`, summary);
    });
  take(root.contentStart, root.contentEnd);
  return summaries;
}

/**
 * The article's PMC id from its first PMC-type `<article-id>` (front matter comes first; later
 * ones belong to sub-articles). PMC has written it as `pmc` (`6947442`), and lately as `pmcid`
 * (`PMC6947442`) beside `pmcaid`.
 */
function articlePmcid(article: string): string | undefined {
  const frontEnd = article.indexOf('</front>');
  const front = frontEnd >= 0 ? article.slice(0, frontEnd) : article;
  const match = /<article-id\s+pub-id-type="(?:pmc|pmcid|pmcaid)"[^>]*>\s*(?:PMC)?(\d+)\s*</.exec(front);
  return match === null ? undefined : `PMC${match[1]}`;
}
