/**
 * PMC efetch XML (JATS) → the front-matter facts the catalogue record takes from PMC: publisher,
 * table-of-contents heading, contributors, title, publication dates, permissions, language and
 * abstract. Pure: XML string in, typed objects out.
 */
import { XmlParseError } from '../../errors.js';
import type { AbstractSection } from './pubmed-record.js';
import {
  attribute,
  child,
  children,
  childText,
  createXmlParser,
  cutElements,
  parseXml,
  textOf,
  type XmlNode,
} from './xml-document.js';
import { normalizeSpace } from './xml-text.js';

export interface PmcContributor {
  surname?: string;
  givenNames?: string;
  suffix?: string;
  /** A group author (`<collab>`), in place of a name. */
  collab?: string;
}

export interface PmcPubDate {
  /** `pub-type` (epub, ppub, collection, pmc-release, …) or, in JATS 1.1+, `date-type`. */
  type?: string;
  year?: string;
  month?: string;
  day?: string;
  season?: string;
}

export interface PmcArticle {
  /** `PMC6947442`, whichever form the article-id had. */
  pmcid?: string;
  pmid?: number;
  doi?: string;
  articleType?: string;
  /** `article/@xml:lang` as given (`en`, `pt-BR`, …). */
  language?: string;
  /** `journal-id[@journal-id-type='nlm-ta']`. */
  journalNlmTa?: string;
  journalTitle?: string;
  publisher?: string;
  /** Table-of-contents headings: `subj-group[@subj-group-type='heading']/subject`. */
  headings: string[];
  /** `article-title`, space-normalised: line breaks in JATS titles are layout. */
  title?: string;
  /** `contrib[@contrib-type='author']`, in order. */
  authors: PmcContributor[];
  /** Every `pub-date`, in document order. */
  pubDates: PmcPubDate[];
  volume?: string;
  issue?: string;
  firstPage?: string;
  copyrightStatements: string[];
  /** Each `license-p`, flattened. */
  licenseTexts: string[];
  /** The main abstract (not a graphical or teaser one), by section. */
  abstract?: AbstractSection[];
}

/** Everything after the front matter, which the record never reads. */
const UNREAD_ELEMENTS = ['body', 'back', 'floats-group', 'sub-article', 'response'];

const parser = createXmlParser({
  stopNodes: [
    '*.article-title',
    '*.collab',
    '*.copyright-statement',
    '*.license-p',
    '*.subject',
    '*.title',
    '*.p',
  ],
  repeated: new Set([
    'article',
    'journal-id',
    'article-id',
    'subj-group',
    'subject',
    'contrib-group',
    'contrib',
    'name',
    'pub-date',
    'copyright-statement',
    'license',
    'license-p',
    'abstract',
    'sec',
    'p',
    'publisher',
    'publisher-name',
  ]),
});

/** Every article of a `<pmc-articleset>` (or the one bare `<article>`); error replies give none. */
export function parsePmcArticleSet(xml: string, source = 'PMC XML'): PmcArticle[] {
  const document = parseXml(parser, cutElements(xml, UNREAD_ELEMENTS, source), source);
  const articles = children(child(document, 'pmc-articleset'), 'article');
  const bare = children(document, 'article');
  if (articles.length === 0 && bare.length === 0 && child(document, 'pmc-articleset') === undefined) {
    throw new XmlParseError(`${source}: root element is neither pmc-articleset nor article`, {
      input: source,
    });
  }
  return [...articles, ...bare].map(readArticle);
}

/** One JATS `<article>` element (or the first article of a `<pmc-articleset>`). */
export function parsePmcArticle(xml: string, source = 'PMC article'): PmcArticle {
  const [first] = parsePmcArticleSet(xml, source);
  if (first === undefined) {
    throw new XmlParseError(`${source}: no <article> in the PMC response`, { input: source });
  }
  return first;
}

function readArticle(article: XmlNode): PmcArticle {
  const front = child(article, 'front');
  const journal = child(front, 'journal-meta');
  const meta = child(front, 'article-meta');
  const ids = children(meta, 'article-id');
  const idOf = (type: string): string | undefined =>
    textOf(ids.find((id) => attribute(id, 'pub-id-type') === type))?.trim() || undefined;
  const pmcNumber = idOf('pmcid') ?? idOf('pmc');
  const pmid = idOf('pmid');
  const permissions = child(meta, 'permissions');
  return {
    pmcid: pmcNumber === undefined ? undefined : `PMC${pmcNumber.replace(/^PMC/i, '')}`,
    pmid: pmid !== undefined && /^\d+$/.test(pmid) ? Number(pmid) : undefined,
    doi: idOf('doi'),
    articleType: attribute(article, 'article-type'),
    language: attribute(article, 'xml:lang'),
    journalNlmTa: nonEmpty(
      textOf(children(journal, 'journal-id').find((id) => attribute(id, 'journal-id-type') === 'nlm-ta')),
    ),
    journalTitle: nonEmpty(childText(child(journal, 'journal-title-group'), 'journal-title')),
    publisher: children(journal, 'publisher')
      .flatMap((publisher) => children(publisher, 'publisher-name'))
      .map((name) => normalizeSpace(textOf(name) ?? ''))
      .find((name) => name !== ''),
    headings: children(child(meta, 'article-categories'), 'subj-group')
      .filter((group) => attribute(group, 'subj-group-type') === 'heading')
      .flatMap((group) => children(group, 'subject'))
      .map((subject) => normalizeSpace(textOf(subject) ?? ''))
      .filter((subject) => subject !== ''),
    title: nonEmpty(childText(child(meta, 'title-group'), 'article-title')),
    authors: children(meta, 'contrib-group')
      .flatMap((group) => children(group, 'contrib'))
      .filter((contrib) => attribute(contrib, 'contrib-type') === 'author')
      .map(readContributor),
    pubDates: children(meta, 'pub-date').map((date) => ({
      type: attribute(date, 'pub-type') ?? attribute(date, 'date-type'),
      year: nonEmpty(childText(date, 'year')),
      month: nonEmpty(childText(date, 'month')),
      day: nonEmpty(childText(date, 'day')),
      season: nonEmpty(childText(date, 'season')),
    })),
    volume: nonEmpty(childText(meta, 'volume')),
    issue: nonEmpty(childText(meta, 'issue')),
    firstPage: nonEmpty(childText(meta, 'fpage')) ?? nonEmpty(childText(meta, 'elocation-id')),
    copyrightStatements: flattened(children(permissions, 'copyright-statement')),
    licenseTexts: children(permissions, 'license').flatMap((license) =>
      flattened(children(license, 'license-p')),
    ),
    abstract: readAbstract(children(meta, 'abstract').find((a) => attribute(a, 'abstract-type') === undefined)),
  };
}

function readContributor(contrib: XmlNode): PmcContributor {
  const name = child(contrib, 'name') ?? child(child(contrib, 'name-alternatives'), 'name');
  return {
    surname: nonEmpty(childText(name, 'surname')),
    givenNames: nonEmpty(childText(name, 'given-names')),
    suffix: nonEmpty(childText(name, 'suffix')),
    collab: nonEmpty(childText(contrib, 'collab')),
  };
}

/**
 * The abstract as sections: its own paragraphs first (unlabelled), then each `sec` with its
 * `title` as the label; nested sections follow their parent.
 */
function readAbstract(abstract: XmlNode | undefined): AbstractSection[] | undefined {
  if (abstract === undefined) return undefined;
  const sections: AbstractSection[] = [];
  const visit = (node: XmlNode, label: string | undefined): void => {
    const text = flattened(children(node, 'p')).join(' ');
    if (text !== '') sections.push({ label, text });
    for (const sec of children(node, 'sec')) visit(sec, nonEmpty(childText(sec, 'title')));
  };
  visit(abstract, undefined);
  return sections.length === 0 ? undefined : sections;
}

/** The space-normalised, non-empty texts of mixed-content elements. */
function flattened(nodes: XmlNode[]): string[] {
  return nodes.map((node) => normalizeSpace(textOf(node) ?? '')).filter((text) => text !== '');
}

function nonEmpty(text: string | undefined): string | undefined {
  const normalized = text === undefined ? '' : normalizeSpace(text);
  return normalized === '' ? undefined : normalized;
}
