/**
 * PubMed efetch XML (`PubmedArticleSet`, and the bulk files' older `MedlineCitationSet`) →
 * PubmedRecord. Pure: XML string in, typed objects out.
 */
import { XmlParseError } from '../../../src/errors.js';
import type {
  AbstractSection,
  ArticleId,
  JournalInfo,
  PubmedAuthor,
  PubmedDate,
  PubmedRecord,
} from '../../../src/transform/parse/pubmed-record.js';
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
} from '../../../src/transform/parse/xml-document.js';
import { flattenMixed, normalizeSpace } from '../../../src/transform/parse/xml-text.js';

export type { PubmedRecord } from '../../../src/transform/parse/pubmed-record.js';

/**
 * Elements no field of the record reads, cut out before parsing. Together they are about half
 * of a typical response; the stored source XML keeps them.
 */
const UNREAD_ELEMENTS = [
  'ReferenceList',
  'AffiliationInfo',
  'CommentsCorrectionsList',
  'GrantList',
  'ChemicalList',
  'SupplMeshList',
  'InvestigatorList',
  'OtherAbstract',
  'Sections',
  'DataBankList',
  'PersonalNameSubjectList',
  'GeneSymbolList',
  'History',
  'CoiStatement',
];

const parser = createXmlParser({
  stopNodes: [
    '*.ArticleTitle',
    '*.VernacularTitle',
    '*.BookTitle',
    '*.AbstractText',
    '*.CollectiveName',
    '*.Keyword',
    '*.CopyrightInformation',
    // A quarter of what is left after the cut, nearly all markup around the descriptor names:
    // read with a regex instead of being built into objects.
    '*.MeshHeadingList',
  ],
  repeated: new Set([
    'PubmedArticle',
    'PubmedBookArticle',
    'MedlineCitation',
    'DeleteCitation',
    'PMID',
    'AuthorList',
    'Author',
    'AbstractText',
    'ArticleId',
    'ELocationID',
    'Language',
    'PublicationType',
    'ArticleDate',
    'ISSN',
    'KeywordList',
    'Keyword',
    'Isbn',
  ]),
});

export interface PubmedSet {
  records: PubmedRecord[];
  /** PMIDs in `DeleteCitation`: records NCBI has withdrawn. */
  deleted: number[];
}

/**
 * A whole `<PubmedArticleSet>` (efetch, baseline/update file) or `<MedlineCitationSet>` (pre-2017
 * bulk file). Articles come first, then books, each in document order.
 */
export function parsePubmedSet(xml: string, source = 'PubMed XML'): PubmedSet {
  const document = parseXml(parser, cutElements(xml, UNREAD_ELEMENTS, source), source);
  const set = child(document, 'PubmedArticleSet') ?? child(document, 'MedlineCitationSet');
  if (set === undefined) {
    throw new XmlParseError(`${source}: root element is not PubmedArticleSet`, { input: source });
  }
  const records = [
    ...children(set, 'PubmedArticle').map((node) => readArticle(node, source)),
    ...children(set, 'MedlineCitation').map((node) => readCitation(node, undefined, source)),
    ...children(set, 'PubmedBookArticle').map((node) => readBook(node, source)),
  ];
  const deleted = children(set, 'DeleteCitation').flatMap((node) =>
    children(node, 'PMID').map((pmid) => readPmid(pmid, source)),
  );
  return { records, deleted };
}

/** One `<PubmedArticle>` or `<PubmedBookArticle>` element, as the extract stage hands it on. */
export function parsePubmedRecord(xml: string, source = 'PubMed record'): PubmedRecord {
  const document = parseXml(parser, cutElements(xml, UNREAD_ELEMENTS, source), source);
  const article = child(document, 'PubmedArticle');
  if (article !== undefined) return readArticle(article, source);
  const book = child(document, 'PubmedBookArticle');
  if (book !== undefined) return readBook(book, source);
  throw new XmlParseError(`${source}: not a PubmedArticle or PubmedBookArticle element`, {
    input: source,
  });
}

function readArticle(node: XmlNode, source: string): PubmedRecord {
  const citation = child(node, 'MedlineCitation');
  if (citation === undefined) {
    throw new XmlParseError(`${source}: PubmedArticle without MedlineCitation`, { input: source });
  }
  return readCitation(citation, child(node, 'PubmedData'), source);
}

function readCitation(
  citation: XmlNode,
  pubmedData: XmlNode | undefined,
  source: string,
): PubmedRecord {
  const article = child(citation, 'Article');
  const journal = child(article, 'Journal');
  const issue = child(journal, 'JournalIssue');
  const journalInfo = child(citation, 'MedlineJournalInfo');
  const pagination = child(article, 'Pagination');
  return {
    kind: 'article',
    pmid: readPmid(child(citation, 'PMID'), source),
    articleTitle: childText(article, 'ArticleTitle'),
    vernacularTitle: childText(article, 'VernacularTitle'),
    abstract: readAbstract(child(article, 'Abstract')),
    copyrightInformation: childText(child(article, 'Abstract'), 'CopyrightInformation'),
    authors: readAuthors(children(article, 'AuthorList')),
    languages: texts(children(article, 'Language')),
    publicationTypes: texts(children(child(article, 'PublicationTypeList'), 'PublicationType')),
    journal: journal && readJournal(journal, issue, journalInfo),
    pubDate: readDate(child(issue, 'PubDate')),
    electronicDate: readDate(
      children(article, 'ArticleDate').find((date) => attribute(date, 'DateType') === 'Electronic'),
    ),
    startPage: childText(pagination, 'StartPage') ?? firstPage(childText(pagination, 'MedlinePgn')),
    locationIds: readIds(children(article, 'ELocationID'), 'EIdType'),
    meshDescriptors: meshDescriptors(child(citation, 'MeshHeadingList')),
    keywords: readKeywords(citation),
    articleIds: readIds(children(child(pubmedData, 'ArticleIdList'), 'ArticleId'), 'IdType'),
    isbns: [],
  };
}

function readBook(node: XmlNode, source: string): PubmedRecord {
  const document = child(node, 'BookDocument');
  if (document === undefined) {
    throw new XmlParseError(`${source}: PubmedBookArticle without BookDocument`, { input: source });
  }
  const book = child(document, 'Book');
  const publisher = child(book, 'Publisher');
  const publisherName = childText(publisher, 'PublisherName');
  const ownIds = [
    ...children(child(document, 'ArticleIdList'), 'ArticleId'),
    ...children(child(child(node, 'PubmedBookData'), 'ArticleIdList'), 'ArticleId'),
  ];
  return {
    kind: 'book',
    pmid: readPmid(child(document, 'PMID'), source),
    articleTitle: childText(document, 'ArticleTitle'),
    vernacularTitle: childText(document, 'VernacularTitle'),
    bookTitle: childText(book, 'BookTitle'),
    abstract: readAbstract(child(document, 'Abstract')),
    copyrightInformation: childText(child(document, 'Abstract'), 'CopyrightInformation'),
    authors: readAuthors([...children(document, 'AuthorList'), ...children(book, 'AuthorList')]),
    languages: texts(children(document, 'Language')),
    publicationTypes: texts(children(document, 'PublicationType')),
    pubDate: readDate(child(book, 'PubDate')),
    locationIds: readIds(
      [...children(document, 'ELocationID'), ...children(book, 'ELocationID')],
      'EIdType',
    ),
    meshDescriptors: [],
    keywords: readKeywords(document),
    articleIds: dedupeIds(readIds(ownIds, 'IdType')),
    publisher: publisherName
      ? { name: normalizeSpace(publisherName), location: childText(publisher, 'PublisherLocation') }
      : undefined,
    isbns: texts(children(book, 'Isbn')),
  };
}

function readPmid(node: XmlNode | undefined, source: string): number {
  const text = textOf(node)?.trim() ?? '';
  if (!/^\d+$/.test(text)) {
    throw new XmlParseError(`${source}: PMID "${text}" is not a number`, { input: source });
  }
  return Number(text);
}

/** Non-empty texts of the given elements, space-normalised. */
function texts(nodes: XmlNode[]): string[] {
  return nodes.map((node) => normalizeSpace(textOf(node) ?? '')).filter((text) => text !== '');
}

function readAbstract(abstract: XmlNode | undefined): AbstractSection[] | undefined {
  const sections = children(abstract, 'AbstractText')
    .map((node) => ({
      label: attribute(node, 'Label') || undefined,
      category: attribute(node, 'NlmCategory') || undefined,
      text: textOf(node) ?? '',
    }))
    .filter((section) => section.text.trim() !== '');
  return sections.length === 0 ? undefined : sections;
}

/** Authors from every author list that is not an editor list, in document order. */
function readAuthors(lists: XmlNode[]): PubmedAuthor[] {
  return lists
    .filter((list) => attribute(list, 'Type') !== 'editors')
    .flatMap((list) => children(list, 'Author'))
    .map((author) => ({
      lastName: childText(author, 'LastName'),
      foreName: childText(author, 'ForeName'),
      initials: childText(author, 'Initials'),
      suffix: childText(author, 'Suffix'),
      collectiveName: childText(author, 'CollectiveName'),
      valid: attribute(author, 'ValidYN') !== 'N',
    }));
}

function readJournal(journal: XmlNode, issue: XmlNode | undefined, info: XmlNode | undefined): JournalInfo {
  const issns = readIds(children(journal, 'ISSN'), 'IssnType');
  const linking = childText(info, 'ISSNLinking');
  if (linking) issns.push({ type: 'Linking', value: linking });
  return {
    title: childText(journal, 'Title'),
    isoAbbreviation: childText(journal, 'ISOAbbreviation'),
    medlineTA: childText(info, 'MedlineTA'),
    issns,
    volume: childText(issue, 'Volume'),
    issue: childText(issue, 'Issue'),
  };
}

function readDate(node: XmlNode | undefined): PubmedDate | undefined {
  if (node === undefined) return undefined;
  return {
    year: childText(node, 'Year'),
    month: childText(node, 'Month'),
    day: childText(node, 'Day'),
    season: childText(node, 'Season'),
    medlineDate: childText(node, 'MedlineDate'),
  };
}

/** "215-26" → "215"; MedlinePgn is the only page field in older records. */
function firstPage(medlinePgn: string | undefined): string | undefined {
  const first = medlinePgn?.split(/[-,;]/)[0]?.trim();
  return first || undefined;
}

/** Ids with a type attribute; `ValidYN="N"` ids are the publisher's mistakes and are left out. */
function readIds(nodes: XmlNode[], typeAttribute: string): ArticleId[] {
  return nodes
    .filter((node) => attribute(node, 'ValidYN') !== 'N')
    .map((node) => ({ type: attribute(node, typeAttribute) ?? '', value: (textOf(node) ?? '').trim() }))
    .filter((id) => id.value !== '');
}

function dedupeIds(ids: ArticleId[]): ArticleId[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const key = `${id.type}\u0000${id.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const DESCRIPTOR_NAME = /<DescriptorName\b[^>]*>([\s\S]*?)<\/DescriptorName>/g;

function meshDescriptors(list: XmlNode | undefined): string[] {
  const raw = list?.['#text'];
  if (typeof raw !== 'string') return [];
  return [...raw.matchAll(DESCRIPTOR_NAME)]
    .map((match) => normalizeSpace(flattenMixed(match[1] ?? '')))
    .filter((name) => name !== '');
}

function readKeywords(parent: XmlNode): string[] {
  return children(parent, 'KeywordList').flatMap((list) => texts(children(list, 'Keyword')));
}
