/** Assertions helpers over what the fake E-utilities server saw and what a fetch returned. */
import type { FetchPubmedResult } from '../../src/extract/types.js';
import type { RecordedRequest } from './fake-eutils.js';

/** The most request arrivals in any window of `windowMs` (the rate NCBI would count). */
export function maxStartsInAnyWindow(requests: readonly RecordedRequest[], windowMs = 1000): number {
  const times = requests.map((request) => request.at).sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** PMIDs of every outcome list, one entry per appearance (a PMID listed twice appears twice). */
export function outcomePmids(result: FetchPubmedResult): number[] {
  return [
    ...result.articles.map((record) => record.pmid),
    ...result.books.map((record) => record.pmid),
    ...result.deleted,
    ...result.missing,
    ...result.failed.map((failure) => failure.pmid),
  ];
}

/** Numbers sorted ascending, for order-free comparisons. */
export function sorted(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}
