/**
 * The record_mesh and record_citation rows of a PubMed record, read from its XML on the transform
 * workers and sent with the record, so the database does not parse the XML again. They are
 * exactly what sql/015's XPath read from `/PubmedArticle/MedlineCitation` (a book has neither):
 * - one row per MeshHeading whose DescriptorName has text and a UI, and one more per qualifier on
 *   it; `major_topic` on the descriptor's row when it or any qualifier is starred, on a
 *   qualifier's when it or its descriptor is;
 * - the journal abbreviation (MedlineTA, else ISOAbbreviation) and pages (MedlinePgn, else
 *   StartPage-EndPage).
 * Values are XPath string values: the element's text with inner markup dropped and references
 * decoded, not trimmed.
 */
import { decodeEntities } from '../transform/parse/xml-text.js';

export interface MeshRow {
  heading: number;
  descriptor: string;
  descriptor_ui: string;
  qualifier: string | null;
  qualifier_ui: string | null;
  major_topic: boolean;
}

/**
 * MeSH rows as columns, one array per record_mesh column: plain values cross from the transform
 * workers to the main thread far more cheaply than one object per row.
 */
export interface MeshColumns {
  heading: number[];
  descriptor: string[];
  descriptor_ui: string[];
  qualifier: (string | null)[];
  qualifier_ui: (string | null)[];
  major_topic: boolean[];
}

export function meshColumns(rows: readonly MeshRow[]): MeshColumns {
  return {
    heading: rows.map((row) => row.heading),
    descriptor: rows.map((row) => row.descriptor),
    descriptor_ui: rows.map((row) => row.descriptor_ui),
    qualifier: rows.map((row) => row.qualifier),
    qualifier_ui: rows.map((row) => row.qualifier_ui),
    major_topic: rows.map((row) => row.major_topic),
  };
}

export interface CitationRow {
  journal_abbreviation: string | null;
  pages: string | null;
}

export interface CitationRows {
  mesh: MeshRow[];
  /** Null for a record that is not a PubmedArticle (a book). */
  citation: CitationRow | null;
}

const NO_ROWS: CitationRows = { mesh: [], citation: null };

export function citationRows(xml: string): CitationRows {
  if (!/^\s*<PubmedArticle[\s>]/.test(xml)) return NO_ROWS;
  const from = xml.indexOf('<MedlineCitation');
  const to = xml.indexOf('</MedlineCitation>', from);
  if (from === -1 || to === -1) return NO_ROWS;
  // Searched alone, so that an element the record lacks is not looked for through PubmedData.
  const citation = xml.slice(from, to);
  // Each element read here occurs in one place only in PubMed's DTD (MedlineTA in
  // MedlineJournalInfo, StartPage in Pagination, …): the first one in MedlineCitation is the one
  // XPath names, and no enclosing element needs to be found first.
  const text = (name: string): string | null => {
    const found = element(citation, name, 0, citation.length);
    return found === undefined ? null : stringValue(citation.slice(found.inner[0], found.inner[1]));
  };
  const startPage = text('StartPage');
  const endPage = text('EndPage');
  return {
    mesh: meshRows(citation, element(citation, 'MeshHeadingList', 0, citation.length)),
    citation: {
      journal_abbreviation: text('MedlineTA') ?? text('ISOAbbreviation'),
      pages: text('MedlinePgn') ?? (startPage === null ? null : startPage + (endPage === null ? '' : `-${endPage}`)),
    },
  };
}

interface Element {
  /** The whole element's start tag, for its attributes. */
  startTag: string;
  /** Where its content starts and ends (equal for an empty element). */
  inner: [number, number];
  end: number;
}

/**
 * The first element `name` starting between `from` and `to`. The elements read here do not nest
 * inside themselves, so the first closing tag ends it.
 */
function element(xml: string, name: string, from: number, to: number): Element | undefined {
  let at = xml.indexOf(`<${name}`, from);
  while (at !== -1 && at < to) {
    const next = xml.charCodeAt(at + name.length + 1);
    // `<Article` must not match `<ArticleTitle`: the name ends at a space, `>` or `/`.
    if (next === 62 || next === 47 || next === 32 || next === 9 || next === 10 || next === 13) {
      const tagEnd = xml.indexOf('>', at);
      if (tagEnd === -1 || tagEnd >= to) return undefined;
      const startTag = xml.slice(at, tagEnd + 1);
      if (startTag.endsWith('/>')) return { startTag, inner: [tagEnd + 1, tagEnd + 1], end: tagEnd + 1 };
      const close = xml.indexOf(`</${name}>`, tagEnd);
      if (close === -1 || close >= to) return undefined;
      return { startTag, inner: [tagEnd + 1, close], end: close + name.length + 3 };
    }
    at = xml.indexOf(`<${name}`, at + 1);
  }
  return undefined;
}

const ATTRIBUTES = {
  UI: /\sUI\s*=\s*(?:"([^"]*)"|'([^']*)')/,
  MajorTopicYN: /\sMajorTopicYN\s*=\s*(?:"([^"]*)"|'([^']*)')/,
};

function attribute(startTag: string, name: keyof typeof ATTRIBUTES): string | null {
  const match = ATTRIBUTES[name].exec(startTag);
  return match === null ? null : decodeEntities(match[1] ?? match[2] ?? '');
}

const MARKUP = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<[^>]*>/g;

/** XPath's string value of raw element content: its text nodes, references decoded, CDATA as is. */
function stringValue(raw: string): string {
  if (!raw.includes('<')) return decodeEntities(raw);
  let text = '';
  let last = 0;
  for (const match of raw.matchAll(MARKUP)) {
    text += decodeEntities(raw.slice(last, match.index));
    if (match[1] !== undefined) text += match[1];
    last = match.index + match[0].length;
  }
  return text + decodeEntities(raw.slice(last));
}

function meshRows(xml: string, list: Element | undefined): MeshRow[] {
  if (list === undefined) return [];
  const rows: MeshRow[] = [];
  let heading = 0;
  let at = list.inner[0];
  for (let found = element(xml, 'MeshHeading', at, list.inner[1]); found !== undefined; found = element(xml, 'MeshHeading', at, list.inner[1])) {
    heading += 1;
    at = found.end;
    const [from, to] = found.inner;
    const descriptor = element(xml, 'DescriptorName', from, to);
    if (descriptor === undefined) continue;
    const descriptorUi = attribute(descriptor.startTag, 'UI');
    if (descriptorUi === null) continue;
    const descriptorMajor = attribute(descriptor.startTag, 'MajorTopicYN') === 'Y';
    const name = stringValue(xml.slice(descriptor.inner[0], descriptor.inner[1]));
    const own: MeshRow = { heading, descriptor: name, descriptor_ui: descriptorUi, qualifier: null, qualifier_ui: null, major_topic: descriptorMajor };
    rows.push(own);
    for (let q = element(xml, 'QualifierName', from, to); q !== undefined; q = element(xml, 'QualifierName', q.end, to)) {
      const qualifierMajor = attribute(q.startTag, 'MajorTopicYN') === 'Y';
      // A starred qualifier makes its descriptor a major topic too.
      own.major_topic ||= qualifierMajor;
      rows.push({
        heading,
        descriptor: name,
        descriptor_ui: descriptorUi,
        qualifier: stringValue(xml.slice(q.inner[0], q.inner[1])),
        qualifier_ui: attribute(q.startTag, 'UI'),
        major_topic: descriptorMajor || qualifierMajor,
      });
    }
  }
  return rows;
}
