/**
 * esummary db=pmc → the date each article went live in PMC (`PmcLiveDate`, the stand-in for
 * the OAI datestamp that opens the record's `spelling`) and its ids. Reads both esummary forms:
 * version 2.0 `<DocumentSummary uid=…>` and the legacy `<DocSum><Id/><Item Name=…/>`.
 */
import { EutilsError, XmlParseError } from '../../errors.js';
import {
  attribute,
  child,
  children,
  childText,
  createXmlParser,
  parseXml,
  textOf,
  type XmlNode,
} from './xml-document.js';

export interface PmcSummary {
  /** The uid asked for: the PMC number without "PMC". */
  uid: string;
  pmcid?: string;
  pmid?: number;
  doi?: string;
  /** `PmcLiveDate` as `YYYY-MM-DD`. */
  liveDate?: string;
  /** NCBI's per-uid error ("cannot get document summary"), when it gave one instead of data. */
  error?: string;
}

const parser = createXmlParser({
  stopNodes: [],
  repeated: new Set(['DocumentSummary', 'DocSum', 'ArticleId', 'Item']),
});

/** Every summary of an `<eSummaryResult>`, per-uid errors included; a whole-request ERROR throws. */
export function parsePmcSummarySet(xml: string, source = 'PMC esummary'): PmcSummary[] {
  const document = parseXml(parser, xml, source);
  const result = child(document, 'eSummaryResult');
  if (result === undefined) {
    throw new XmlParseError(`${source}: root element is not eSummaryResult`, { input: source });
  }
  const error = childText(result, 'ERROR');
  if (error) throw new EutilsError(`${source}: NCBI answered "${error}"`, { input: source });
  return [
    ...children(child(result, 'DocumentSummarySet'), 'DocumentSummary').map(readDocumentSummary),
    ...children(result, 'DocSum').map(readDocSum),
  ];
}

/** One `<DocumentSummary>` or `<DocSum>` element. */
export function parsePmcSummary(xml: string, source = 'PMC summary'): PmcSummary {
  const document = parseXml(parser, xml, source);
  const summary = child(document, 'DocumentSummary');
  if (summary !== undefined) return readDocumentSummary(summary);
  const docSum = child(document, 'DocSum');
  if (docSum !== undefined) return readDocSum(docSum);
  throw new XmlParseError(`${source}: not a DocumentSummary or DocSum element`, { input: source });
}

function readDocumentSummary(node: XmlNode): PmcSummary {
  const ids = children(child(node, 'ArticleIds'), 'ArticleId').map((id) => ({
    type: (childText(id, 'IdType') ?? '').trim().toLowerCase(),
    value: (childText(id, 'Value') ?? '').trim(),
  }));
  return summary(
    attribute(node, 'uid') ?? '',
    (type) => ids.find((id) => id.type === type)?.value,
    childText(node, 'PmcLiveDate'),
    childText(node, 'error'),
  );
}

/** Legacy form: everything is an `<Item Name=…>`, the ids nested in `Item Name="ArticleIds"`. */
function readDocSum(node: XmlNode): PmcSummary {
  const items = children(node, 'Item');
  const item = (list: XmlNode[], name: string): string | undefined =>
    textOf(list.find((entry) => attribute(entry, 'Name')?.toLowerCase() === name))?.trim();
  const ids = children(
    items.find((entry) => attribute(entry, 'Name')?.toLowerCase() === 'articleids'),
    'Item',
  );
  return summary(
    (childText(node, 'Id') ?? '').trim(),
    (type) => item(ids, type),
    item(items, 'pmclivedate'),
    childText(node, 'error'),
  );
}

function summary(
  uid: string,
  idOf: (type: string) => string | undefined,
  liveDate: string | undefined,
  error: string | undefined,
): PmcSummary {
  const pmcid = idOf('pmcid') ?? idOf('pmc');
  const pmid = idOf('pmid');
  return {
    uid,
    pmcid: pmcid ? `PMC${pmcid.replace(/^PMC/i, '')}` : undefined,
    pmid: pmid && /^\d+$/.test(pmid) ? Number(pmid) : undefined,
    doi: idOf('doi') || undefined,
    liveDate: isoDate(liveDate),
    error: error?.trim() || undefined,
  };
}

/** "2020/01/13" or "2003/12/01 00:00" → "2020-01-13". */
function isoDate(text: string | undefined): string | undefined {
  const match = /^(\d{4})\/(\d{2})\/(\d{2})/.exec(text?.trim() ?? '');
  return match === null ? undefined : `${match[1]}-${match[2]}-${match[3]}`;
}
