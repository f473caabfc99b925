/**
 * Cuts an efetch db=pubmed answer (`<PubmedArticleSet>`) into one string per record, with the
 * record's PMID and own PMC id, after checking the answer is complete. A set that is truncated,
 * has an unknown child (an `<ErrorList>`, say) or a record without a PMID is refused as a whole:
 * the caller asks again rather than keep part of a bad answer.
 */
import { XmlParseError } from '../errors.js';
import type { PubmedRecordXml } from './types.js';
import { firstElementRange, firstElementText, forEachChild, openRoot } from './xml-scan.js';

export interface PubmedArticleSetPieces {
  records: PubmedRecordXml[];
  /** PMIDs listed in `<DeleteCitation>`. */
  deleted: number[];
}

const DOCUMENT = 'efetch db=pubmed response';

export function cutPubmedArticleSet(xml: string): PubmedArticleSetPieces {
  const root = openRoot(xml, ['PubmedArticleSet'], DOCUMENT);
  const records: PubmedRecordXml[] = [];
  const deleted: number[] = [];
  forEachChild(xml, root.contentStart, root.contentEnd, DOCUMENT, (child) => {
    switch (child.name) {
      case 'PubmedArticle':
      case 'PubmedBookArticle': {
        // Searched as its own string: a search that finds nothing then stops at the record's end.
        records.push(pubmedRecordOf(xml.slice(child.start, child.end), child.name === 'PubmedArticle' ? 'article' : 'book'));
        break;
      }
      case 'DeleteCitation':
        deleted.push(...deletedPmids(xml.slice(child.contentStart, child.contentEnd)));
        break;
      default:
        throw new XmlParseError(`${DOCUMENT}: unexpected <${child.name}> in <PubmedArticleSet>: ${xml.slice(child.start, child.start + 300)}`, {
          input: DOCUMENT,
        });
    }
  });
  return { records, deleted };
}

/** One `<PubmedArticle>` or `<PubmedBookArticle>` element with its PMID and own PMC id. */
export function pubmedRecordOf(recordXml: string, kind: PubmedRecordXml['kind'], documentName = DOCUMENT): PubmedRecordXml {
  const record: PubmedRecordXml = { pmid: recordPmid(recordXml, documentName), kind, xml: recordXml };
  const pmcid = ownPmcid(recordXml);
  if (pmcid !== undefined) record.pmcid = pmcid;
  return record;
}

/**
 * The record's PMID is the first `<PMID>` in it: `MedlineCitation/PMID` or `BookDocument/PMID`
 * both come before any other PMID (comments, corrections, references).
 */
function recordPmid(record: string, documentName: string): number {
  const pmid = parsePmid(firstElementText(record, 'PMID', 0, record.length));
  if (pmid === undefined) {
    throw new XmlParseError(`${documentName}: record without a readable <PMID>: ${record.slice(0, 200)}`, { input: documentName });
  }
  return pmid;
}

/**
 * The article's own PMC id, from the `ArticleIdList` of `PubmedData` (or `PubmedBookData`). The
 * `ReferenceList` after it holds the ids of cited papers, so a list found past the start of the
 * references is not the article's.
 */
function ownPmcid(record: string): string | undefined {
  const data = firstElementRange(record, 'PubmedData', 0, record.length) ?? firstElementRange(record, 'PubmedBookData', 0, record.length);
  if (data === undefined) return undefined;
  const references = record.indexOf('<ReferenceList', data.contentStart);
  const limit = references >= 0 && references < data.contentEnd ? references : data.contentEnd;
  const ids = firstElementRange(record, 'ArticleIdList', data.contentStart, limit);
  if (ids === undefined) return undefined;
  const marker = record.indexOf('IdType="pmc">', ids.contentStart);
  if (marker < 0 || marker > ids.contentEnd) return undefined;
  const valueStart = marker + 'IdType="pmc">'.length;
  const value = record.slice(valueStart, record.indexOf('<', valueStart)).trim();
  return /^PMC\d+$/.test(value) ? value : undefined;
}

/** The PMIDs listed in the content of a `<DeleteCitation>`. */
export function deletedPmids(deletion: string, documentName = DOCUMENT): number[] {
  const pmids: number[] = [];
  let position = 0;
  for (;;) {
    const range = firstElementRange(deletion, 'PMID', position, deletion.length);
    if (range === undefined) return pmids;
    const pmid = parsePmid(deletion.slice(range.contentStart, range.contentEnd));
    if (pmid === undefined) throw new XmlParseError(`${documentName}: unreadable PMID in <DeleteCitation>`, { input: documentName });
    pmids.push(pmid);
    position = range.contentEnd;
  }
}

function parsePmid(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return /^\d{1,10}$/.test(trimmed) ? Number(trimmed) : undefined;
}
