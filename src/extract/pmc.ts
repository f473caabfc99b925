/**
 * PMC enrichment: for PMC ids found in PubMed records, the JATS front matter (efetch db=pmc) and
 * the summary (esummary db=pmc, which carries PmcLiveDate). Both go through the same client, so
 * the same limiter. PMC is a bonus, not a requirement: a call that fails after its retries is
 * logged and its records stay PubMed-only; it never fails the PubMed batch.
 */
import { EutilsError, EutilsUnreachableError } from '../errors.js';
import type { EutilsClient } from './eutils-client.js';
import { cutPmcArticleSet, cutPmcSummaries } from './pmc-response.js';
import { chunk, runConcurrently } from './run-concurrently.js';
import type { PmcRecordXml } from './types.js';

export interface FetchPmcOptions {
  /** PMC ids per efetch: full JATS articles are large; 50 keeps an answer to a few MB. */
  articleBatchSize?: number;
  /** PMC ids per esummary (default 200). */
  summaryBatchSize?: number;
  /** Calls in flight at once (default 32). */
  concurrency?: number;
  /** Gives the fetch up: every call under way or still to come ends, and it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told of each call given up after its retries (its ids get nothing from it), for a caller to whom PMC is the point. */
  onCallFailed?: (pmcids: readonly string[], reason: string) => void;
}

/**
 * PMC data per PMC id (`PMC6947442`). An id is in the map when PMC returned at least one part
 * for it; a part is absent when PMC does not have it or its call failed.
 */
export async function fetchPmc(client: EutilsClient, pmcids: readonly string[], options: FetchPmcOptions = {}): Promise<Map<string, PmcRecordXml>> {
  const ids = [...new Set(pmcids)];
  const { signal } = options;
  const concurrency = options.concurrency ?? 32;
  const calls = [
    ...chunk(ids, options.articleBatchSize ?? 50).map((batch) => () => fetchPart(client, 'efetch', batch, cutPmcArticleSet, options)),
    ...chunk(ids, options.summaryBatchSize ?? 200).map((batch) => () => fetchPart(client, 'esummary', batch, cutPmcSummaries, options)),
  ];
  const parts = await runConcurrently(calls, concurrency, (call) => call());

  const result = new Map<string, PmcRecordXml>();
  const entry = (pmcid: string): PmcRecordXml => {
    const existing = result.get(pmcid);
    if (existing !== undefined) return existing;
    const created: PmcRecordXml = { pmcid };
    result.set(pmcid, created);
    return created;
  };
  const wanted = new Set(ids);
  for (const part of parts) {
    for (const [pmcid, xml] of part.pieces) {
      if (!wanted.has(pmcid)) continue;
      if (part.utility === 'efetch') entry(pmcid).articleXml = xml;
      else entry(pmcid).summaryXml = xml;
    }
  }
  return result;
}

interface Part {
  utility: 'efetch' | 'esummary';
  pieces: Map<string, string>;
}

async function fetchPart(
  client: EutilsClient,
  utility: 'efetch' | 'esummary',
  pmcids: string[],
  cut: (xml: string) => Map<string, string>,
  { signal, onCallFailed }: Pick<FetchPmcOptions, 'signal' | 'onCallFailed'>,
): Promise<Part> {
  const params = { db: 'pmc', id: pmcids.map((pmcid) => pmcid.slice(3)).join(','), ...(utility === 'esummary' ? { version: '2.0' } : {}) };
  try {
    const pieces = utility === 'efetch' ? await client.efetch(params, cut, { signal }) : await client.esummary(params, cut, { signal });
    return { utility, pieces };
  } catch (error) {
    if (!(error instanceof EutilsError) || error instanceof EutilsUnreachableError) throw error;
    client.logger?.warn({ utility, db: 'pmc', pmcids, reason: error.message }, 'PMC call failed; these records stay PubMed-only');
    onCallFailed?.(pmcids, `${utility} db=pmc: ${error.message}`);
    return { utility, pieces: new Map() };
  }
}
