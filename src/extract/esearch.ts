/**
 * PubMed searches as a stream of PMIDs. ESearch pages through a query on the history server
 * (`usehistory=y`, then WebEnv + query_key with retstart/retmax), but NCBI serves only the first
 * 9,999 hits of a query. A query with more hits is cut into date windows (`mindate`/`maxdate` on
 * `datetype`), bisected until each holds at most 9,999, so no hit past 10,000 is lost.
 *
 * A caller-given window (say `datetype: 'mdat'` since the last sync) is searched the same way.
 * A query may have millions of hits: they stream out page by page, and the PMIDs already listed
 * are remembered in a bitmap, never in a list.
 */
import { EutilsError, InputError, XmlParseError } from '../errors.js';
import type { EutilsClient, EutilsParams } from './eutils-client.js';
import { PmidSet } from '../pipeline/pmid-set.js';
import { firstElementRange, firstElementText, openRoot } from './xml-scan.js';

export interface SearchPubmedOptions {
  /** Which date the window applies to (default `edat`, the date PubMed added the record). */
  datetype?: 'edat' | 'mdat' | 'pdat';
  /** `YYYY/MM/DD`, inclusive; with `maxdate`, restricts the search to that window. */
  mindate?: string;
  maxdate?: string;
  /** PMIDs per esearch page (default 5,000, at most 9,999). */
  pageSize?: number;
  /** Gives the search up: the page under way ends, and the listing throws the signal's reason. */
  signal?: AbortSignal;
}

/** Hits NCBI lets one query reach (`retstart` cannot pass 9,998). */
export const MAX_HITS_PER_QUERY = 9999;
const EARLIEST = '1800/01/01';
const DAY_MS = 86_400_000;

export interface EsearchPage {
  count: number;
  ids: number[];
  webEnv?: string;
  queryKey?: string;
}

interface DayWindow {
  first: number;
  last: number;
}

export async function* searchPubmed(client: EutilsClient, query: string, options: SearchPubmedOptions = {}): AsyncGenerator<number> {
  const pageSize = options.pageSize ?? 5000;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_HITS_PER_QUERY) {
    throw new InputError(`esearch page size must be 1 to ${MAX_HITS_PER_QUERY}, got ${pageSize}`, { input: pageSize });
  }
  if ((options.mindate === undefined) !== (options.maxdate === undefined)) {
    throw new InputError('mindate and maxdate must be given together', { input: options });
  }
  const datetype = options.datetype ?? 'edat';
  const { signal } = options;
  const given = options.mindate === undefined ? undefined : { first: parseDay(options.mindate), last: parseDay(options.maxdate as string) };
  const seen = new PmidSet();

  async function* searchWindow(window: DayWindow | undefined): AsyncGenerator<number> {
    const base: EutilsParams = { db: 'pubmed', term: query, usehistory: 'y' };
    if (window !== undefined) Object.assign(base, { datetype, mindate: formatDay(window.first), maxdate: formatDay(window.last) });
    const first = await esearchPage(client, { ...base, retstart: 0, retmax: pageSize }, { signal });
    if (first.count > MAX_HITS_PER_QUERY) {
      const whole = window ?? { first: parseDay(EARLIEST), last: parseDay(`${new Date().getUTCFullYear() + 2}/12/31`) };
      if (whole.first === whole.last) {
        throw new EutilsError(`esearch: ${first.count} hits on ${formatDay(whole.first)} alone; NCBI serves only ${MAX_HITS_PER_QUERY}`, {
          input: { query, datetype, day: formatDay(whole.first) },
        });
      }
      const middle = Math.floor((whole.first + whole.last) / 2);
      yield* searchWindow({ first: whole.first, last: middle });
      yield* searchWindow({ first: middle + 1, last: whole.last });
      return;
    }
    yield* unseen(first.ids);
    for (let retstart = first.ids.length; retstart < first.count; retstart += pageSize) {
      const history: EutilsParams = first.webEnv === undefined ? {} : { WebEnv: first.webEnv, query_key: first.queryKey ?? '1' };
      const expectedIds = Math.min(pageSize, first.count - retstart);
      const page = await esearchPage(client, { ...base, ...history, retstart, retmax: pageSize }, { expectedIds, signal });
      yield* unseen(page.ids);
    }
  }

  // Windows do not overlap, but a record modified mid-run can move between mdat windows.
  function* unseen(ids: number[]): Generator<number> {
    for (const id of ids) if (seen.add(id)) yield id;
  }

  yield* searchWindow(given);
}

/** One esearch call; with `expectedIds`, a page holding fewer ids is refused (and retried). */
export function esearchPage(
  client: EutilsClient,
  params: EutilsParams,
  { expectedIds, signal }: { expectedIds?: number; signal?: AbortSignal } = {},
): Promise<EsearchPage> {
  return client.esearch(params, (body) => {
    const page = readEsearchResult(body);
    if (expectedIds !== undefined && page.ids.length < expectedIds) {
      throw new XmlParseError(`esearch page holds ${page.ids.length} ids, expected ${expectedIds}`, { input: 'esearch response' });
    }
    return page;
  }, { signal });
}

/** Count, ids and history keys of a complete `<eSearchResult>`. */
export function readEsearchResult(xml: string): EsearchPage {
  const document = 'esearch response';
  const root = openRoot(xml, ['eSearchResult'], document);
  const countText = firstElementText(xml, 'Count', root.contentStart, root.contentEnd);
  if (countText === undefined || !/^\s*\d+\s*$/.test(countText)) {
    throw new XmlParseError(`${document}: no <Count>`, { input: document });
  }
  const ids: number[] = [];
  const list = firstElementRange(xml, 'IdList', root.contentStart, root.contentEnd);
  if (list !== undefined) {
    for (const match of xml.slice(list.contentStart, list.contentEnd).matchAll(/<Id>\s*(\d+)\s*<\/Id>/g)) ids.push(Number(match[1]));
  }
  const page: EsearchPage = { count: Number(countText), ids };
  const webEnv = firstElementText(xml, 'WebEnv', root.contentStart, root.contentEnd)?.trim();
  const queryKey = firstElementText(xml, 'QueryKey', root.contentStart, root.contentEnd)?.trim();
  if (webEnv) page.webEnv = webEnv;
  if (queryKey) page.queryKey = queryKey;
  return page;
}

function parseDay(text: string): number {
  const match = /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(text);
  const day = match === null ? Number.NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  if (Number.isNaN(day) || formatDay(day / DAY_MS) !== text) throw new InputError(`not a YYYY/MM/DD date: ${text}`, { input: text });
  return day / DAY_MS;
}

function formatDay(day: number): string {
  const date = new Date(day * DAY_MS);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
}
