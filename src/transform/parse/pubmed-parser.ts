/**
 * PubMed efetch XML (`PubmedArticleSet`, and the bulk files' older `MedlineCitationSet`) →
 * PubmedRecord. Pure: XML string in, typed objects out.
 *
 * This is the hot path of every load, so it reads the string through xml-tree.ts rather than a
 * general parser: one checking pass that builds a small element tree, and strings only for the
 * values the record keeps. It reads exactly what the project's fast-xml-parser set-up
 * (xml-document.ts) reads from the same XML; a differential test holds the two to that.
 */
import { XmlParseError } from '../../errors.js';
import type {
  AbstractSection,
  ArticleId,
  JournalInfo,
  PubmedAuthor,
  PubmedDate,
  PubmedRecord,
} from './pubmed-record.js';
import { decodeEntities, flattenMixed, normalizeSpace } from './xml-text.js';
import { parseTree, rawAttribute, rawText, type XmlElement, type XmlTreeShape } from './xml-tree.js';

export type { PubmedRecord } from './pubmed-record.js';

const SHAPE: XmlTreeShape = {
  /**
   * Elements no field of the record reads. Together they are about half of a typical response;
   * the stored source XML keeps them.
   */
  cut: new Set([
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
  ]),
  stop: new Set([
    'ArticleTitle',
    'VernacularTitle',
    'BookTitle',
    'AbstractText',
    'CollectiveName',
    'Keyword',
    'CopyrightInformation',
    // Nearly all markup around the descriptor names: read with a regex, not built into elements.
    'MeshHeadingList',
  ]),
};

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
  const reader = new Reader(xml, source);
  const set = reader.root;
  if (set.name !== 'PubmedArticleSet' && set.name !== 'MedlineCitationSet') {
    throw new XmlParseError(`${source}: root element is not PubmedArticleSet`, { input: source });
  }
  const records = [
    ...reader.children(set, 'PubmedArticle').map((node) => reader.article(node)),
    ...reader.children(set, 'MedlineCitation').map((node) => reader.citation(node, undefined)),
    ...reader.children(set, 'PubmedBookArticle').map((node) => reader.book(node)),
  ];
  const deleted = reader
    .children(set, 'DeleteCitation')
    .flatMap((node) => reader.children(node, 'PMID').map((pmid) => reader.pmid(pmid)));
  return { records, deleted };
}

/** One `<PubmedArticle>` or `<PubmedBookArticle>` element, as the extract stage hands it on. */
export function parsePubmedRecord(xml: string, source = 'PubMed record'): PubmedRecord {
  const reader = new Reader(xml, source);
  const { root } = reader;
  if (root.name === 'PubmedArticle') return reader.article(root);
  if (root.name === 'PubmedBookArticle') return reader.book(root);
  throw new XmlParseError(`${source}: not a PubmedArticle or PubmedBookArticle element`, {
    input: source,
  });
}

const NO_ELEMENTS: readonly XmlElement[] = [];

class Reader {
  readonly root: XmlElement;

  constructor(
    private readonly xml: string,
    private readonly source: string,
  ) {
    this.root = parseTree(xml, SHAPE, source);
  }

  /** The child elements called `name`, in document order. */
  children(node: XmlElement | undefined, name: string): XmlElement[] {
    const all = node?.children;
    if (all === undefined) return [];
    const found: XmlElement[] = [];
    for (const element of all) if (element.name === name) found.push(element);
    return found;
  }

  child(node: XmlElement | undefined, name: string): XmlElement | undefined {
    const all = node?.children ?? NO_ELEMENTS;
    for (const element of all) if (element.name === name) return element;
    return undefined;
  }

  /** The decoded text of an element (of a stop element, flattened). */
  text(node: XmlElement | undefined): string | undefined {
    return node === undefined ? undefined : flattenMixed(rawText(this.xml, node, SHAPE));
  }

  childText(node: XmlElement | undefined, name: string): string | undefined {
    return this.text(this.child(node, name));
  }

  attribute(node: XmlElement | undefined, name: string): string | undefined {
    const raw = node === undefined ? undefined : rawAttribute(this.xml, node, name);
    return raw === undefined ? undefined : decodeEntities(raw);
  }

  article(node: XmlElement): PubmedRecord {
    const citation = this.child(node, 'MedlineCitation');
    if (citation === undefined) {
      throw new XmlParseError(`${this.source}: PubmedArticle without MedlineCitation`, { input: this.source });
    }
    return this.citation(citation, this.child(node, 'PubmedData'));
  }

  citation(citation: XmlElement, pubmedData: XmlElement | undefined): PubmedRecord {
    const article = this.child(citation, 'Article');
    const journal = this.child(article, 'Journal');
    const issue = this.child(journal, 'JournalIssue');
    const journalInfo = this.child(citation, 'MedlineJournalInfo');
    const pagination = this.child(article, 'Pagination');
    const abstract = this.child(article, 'Abstract');
    return {
      kind: 'article',
      pmid: this.pmid(this.child(citation, 'PMID')),
      articleTitle: this.childText(article, 'ArticleTitle'),
      vernacularTitle: this.childText(article, 'VernacularTitle'),
      abstract: this.abstract(abstract),
      copyrightInformation: this.childText(abstract, 'CopyrightInformation'),
      authors: this.authors(this.children(article, 'AuthorList')),
      languages: this.texts(this.children(article, 'Language')),
      publicationTypes: this.texts(this.children(this.child(article, 'PublicationTypeList'), 'PublicationType')),
      journal: journal && this.journal(journal, issue, journalInfo),
      pubDate: this.date(this.child(issue, 'PubDate')),
      electronicDate: this.date(
        this.children(article, 'ArticleDate').find((date) => this.attribute(date, 'DateType') === 'Electronic'),
      ),
      startPage: this.childText(pagination, 'StartPage') ?? firstPage(this.childText(pagination, 'MedlinePgn')),
      locationIds: this.ids(this.children(article, 'ELocationID'), 'EIdType'),
      meshDescriptors: this.meshDescriptors(this.child(citation, 'MeshHeadingList')),
      keywords: this.keywords(citation),
      articleIds: this.ids(this.children(this.child(pubmedData, 'ArticleIdList'), 'ArticleId'), 'IdType'),
      isbns: [],
    };
  }

  book(node: XmlElement): PubmedRecord {
    const document = this.child(node, 'BookDocument');
    if (document === undefined) {
      throw new XmlParseError(`${this.source}: PubmedBookArticle without BookDocument`, { input: this.source });
    }
    const book = this.child(document, 'Book');
    const publisher = this.child(book, 'Publisher');
    const publisherName = this.childText(publisher, 'PublisherName');
    const abstract = this.child(document, 'Abstract');
    const ownIds = [
      ...this.children(this.child(document, 'ArticleIdList'), 'ArticleId'),
      ...this.children(this.child(this.child(node, 'PubmedBookData'), 'ArticleIdList'), 'ArticleId'),
    ];
    return {
      kind: 'book',
      pmid: this.pmid(this.child(document, 'PMID')),
      articleTitle: this.childText(document, 'ArticleTitle'),
      vernacularTitle: this.childText(document, 'VernacularTitle'),
      bookTitle: this.childText(book, 'BookTitle'),
      abstract: this.abstract(abstract),
      copyrightInformation: this.childText(abstract, 'CopyrightInformation'),
      authors: this.authors([...this.children(document, 'AuthorList'), ...this.children(book, 'AuthorList')]),
      languages: this.texts(this.children(document, 'Language')),
      publicationTypes: this.texts(this.children(document, 'PublicationType')),
      pubDate: this.date(this.child(book, 'PubDate')),
      locationIds: this.ids([...this.children(document, 'ELocationID'), ...this.children(book, 'ELocationID')], 'EIdType'),
      meshDescriptors: [],
      keywords: this.keywords(document),
      articleIds: dedupeIds(this.ids(ownIds, 'IdType')),
      publisher: publisherName
        ? { name: normalizeSpace(publisherName), location: this.childText(publisher, 'PublisherLocation') }
        : undefined,
      isbns: this.texts(this.children(book, 'Isbn')),
    };
  }

  pmid(node: XmlElement | undefined): number {
    const text = this.text(node)?.trim() ?? '';
    if (!/^\d+$/.test(text)) {
      throw new XmlParseError(`${this.source}: PMID "${text}" is not a number`, { input: this.source });
    }
    return Number(text);
  }

  /** Non-empty texts of the given elements, space-normalised. */
  private texts(nodes: XmlElement[]): string[] {
    const found: string[] = [];
    for (const node of nodes) {
      const text = normalizeSpace(this.text(node) ?? '');
      if (text !== '') found.push(text);
    }
    return found;
  }

  private abstract(abstract: XmlElement | undefined): AbstractSection[] | undefined {
    const sections = this.children(abstract, 'AbstractText')
      .map((node) => ({
        label: this.attribute(node, 'Label') || undefined,
        category: this.attribute(node, 'NlmCategory') || undefined,
        text: this.text(node) ?? '',
      }))
      .filter((section) => section.text.trim() !== '');
    return sections.length === 0 ? undefined : sections;
  }

  /** Authors from every author list that is not an editor list, in document order. */
  private authors(lists: XmlElement[]): PubmedAuthor[] {
    return lists
      .filter((list) => this.attribute(list, 'Type') !== 'editors')
      .flatMap((list) => this.children(list, 'Author'))
      .map((author) => ({
        lastName: this.childText(author, 'LastName'),
        foreName: this.childText(author, 'ForeName'),
        initials: this.childText(author, 'Initials'),
        suffix: this.childText(author, 'Suffix'),
        collectiveName: this.childText(author, 'CollectiveName'),
        valid: this.attribute(author, 'ValidYN') !== 'N',
      }));
  }

  private journal(journal: XmlElement, issue: XmlElement | undefined, info: XmlElement | undefined): JournalInfo {
    const issns = this.ids(this.children(journal, 'ISSN'), 'IssnType');
    const linking = this.childText(info, 'ISSNLinking');
    if (linking) issns.push({ type: 'Linking', value: linking });
    return {
      title: this.childText(journal, 'Title'),
      isoAbbreviation: this.childText(journal, 'ISOAbbreviation'),
      medlineTA: this.childText(info, 'MedlineTA'),
      issns,
      volume: this.childText(issue, 'Volume'),
      issue: this.childText(issue, 'Issue'),
    };
  }

  private date(node: XmlElement | undefined): PubmedDate | undefined {
    if (node === undefined) return undefined;
    return {
      year: this.childText(node, 'Year'),
      month: this.childText(node, 'Month'),
      day: this.childText(node, 'Day'),
      season: this.childText(node, 'Season'),
      medlineDate: this.childText(node, 'MedlineDate'),
    };
  }

  /** Ids with a type attribute; `ValidYN="N"` ids are the publisher's mistakes and are left out. */
  private ids(nodes: XmlElement[], typeAttribute: string): ArticleId[] {
    const ids: ArticleId[] = [];
    for (const node of nodes) {
      if (this.attribute(node, 'ValidYN') === 'N') continue;
      const value = (this.text(node) ?? '').trim();
      if (value !== '') ids.push({ type: this.attribute(node, typeAttribute) ?? '', value });
    }
    return ids;
  }

  private meshDescriptors(list: XmlElement | undefined): string[] {
    if (list === undefined) return [];
    const raw = rawText(this.xml, list, SHAPE);
    const names: string[] = [];
    for (const match of raw.matchAll(DESCRIPTOR_NAME)) {
      const name = normalizeSpace(flattenMixed(match[1] ?? ''));
      if (name !== '') names.push(name);
    }
    return names;
  }

  private keywords(parent: XmlElement): string[] {
    return this.children(parent, 'KeywordList').flatMap((list) => this.texts(this.children(list, 'Keyword')));
  }
}

const DESCRIPTOR_NAME = /<DescriptorName\b[^>]*>([\s\S]*?)<\/DescriptorName>/g;

/** "215-26" → "215"; MedlinePgn is the only page field in older records. */
function firstPage(medlinePgn: string | undefined): string | undefined {
  const first = medlinePgn?.split(/[-,;]/)[0]?.trim();
  return first || undefined;
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
