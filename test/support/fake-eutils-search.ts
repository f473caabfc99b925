/**
 * The fake server's esearch: stored hit lists per term, filtered by a date window, paged through
 * a history server (WebEnv + query_key), and walled at 9,999 hits the way NCBI walls PubMed.
 */
import { RETSTART_LIMIT_MESSAGE, errorInBody, esearchResult } from './fake-eutils-bodies.js';

/** One PMID a search finds, with the dates (`YYYY/MM/DD`) a window can filter on. */
export interface SearchHit {
  pmid: number;
  edat: string;
  mdat?: string;
  pdat?: string;
}

export class FakeSearches {
  private readonly hitsByTerm = new Map<string, readonly SearchHit[]>();
  private readonly history = new Map<string, number[]>();

  add(term: string, hits: readonly SearchHit[]): void {
    this.hitsByTerm.set(term, hits);
  }

  answer(params: Record<string, string>): { body: string; records: number } {
    const term = params.term ?? '';
    const retstart = Number(params.retstart ?? 0);
    const retmax = Number(params.retmax ?? 20);
    if (retstart > 9998) return { body: errorInBody('esearch', RETSTART_LIMIT_MESSAGE), records: 0 };

    const stored = params.WebEnv === undefined ? undefined : this.history.get(`${params.WebEnv}#${params.query_key ?? ''}`);
    const ids = stored ?? this.find(term, params);
    let webEnv: string | undefined;
    let queryKey: string | undefined;
    if (params.usehistory === 'y') {
      webEnv = params.WebEnv ?? `MCID_fake${this.history.size + 1}`;
      queryKey = stored === undefined ? String(this.history.size + 1) : (params.query_key as string);
      this.history.set(`${webEnv}#${queryKey}`, ids);
    }
    const page = ids.slice(retstart, Math.min(retstart + retmax, 10_000));
    const result: Parameters<typeof esearchResult>[0] = { count: ids.length, retstart, ids: page, term };
    if (webEnv !== undefined) Object.assign(result, { webEnv, queryKey });
    return { body: esearchResult(result), records: page.length };
  }

  /** Hits for `term` inside the window, newest PMID first as PubMed sorts them. */
  private find(term: string, params: Record<string, string>): number[] {
    const datetype = (params.datetype ?? 'edat') as 'edat' | 'mdat' | 'pdat';
    const { mindate, maxdate } = params;
    return (this.hitsByTerm.get(term) ?? [])
      .filter((hit) => {
        if (mindate === undefined || maxdate === undefined) return true;
        const date = hit[datetype] ?? hit.edat;
        return date >= mindate && date <= maxdate;
      })
      .map((hit) => hit.pmid)
      .sort((a, b) => b - a);
  }
}
