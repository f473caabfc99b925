/**
 * Fetches PubMed records by PMID and accounts for every PMID asked: each ends in exactly one of
 * articles, books, deleted, missing or failed.
 *
 * - PMIDs go out in POSTed efetch batches, many in flight; the client's limiter paces the starts.
 * - A batch that fails after every retry is split in halves, recursively, so one bad record
 *   costs only its own half; a single PMID that still fails is `failed`. An answer too large to
 *   parse is split at once, without retrying (the same question brings the same answer), down
 *   to the PMID whose record alone is too large. When
 *   calls keep failing with no success between them, NCBI is down, not the batch: splitting stops
 *   and the PMIDs are `failed` (a later run asks again) instead of costing hundreds of requests.
 * - NCBI silently leaves out PMIDs it does not know (and may answer a PMID nobody asked for), and
 *   now and then drops some it knows from a large answer; so requested − returned is asked again,
 *   together, before being called `missing`. One request per batch of them, not one per PMID: a
 *   run of unknown PMIDs would otherwise cost a request (a third of a second) each.
 * - With `pmc` (the default), records with a PMC id get their PMC article and summary.
 */
import { EutilsError, EutilsUnreachableError, InputError } from '../errors.js';
import { cutPubmedArticleSet, type PubmedArticleSetPieces } from './efetch-response.js';
import type { EutilsClient } from './eutils-client.js';
import { fetchPmc } from './pmc.js';
import { OversizeResponseError } from './response-body.js';
import { chunk, runConcurrently } from './run-concurrently.js';
import type { FailedPmid, FetchPubmedResult } from './types.js';

export interface FetchPubmedOptions {
  /** Fetch PMC front matter and summaries for records with a PMC id (default true). */
  pmc?: boolean;
  /** PMIDs per efetch (default 200; NCBI returns at most 10,000). */
  batchSize?: number;
  /** Batches in flight at once (default 32). */
  concurrency?: number;
  /** Gives the fetch up: every call under way or still to come ends, and it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Attempts for each half of a split batch: the whole batch already had its full share. */
const SPLIT_ATTEMPTS = 2;
/** Failed calls in a row, with no success between, taken as an outage rather than a bad batch. */
const OUTAGE_FAILURES = 8;

/** Shared by all batches of one fetch: how many calls have failed since the last success. */
interface FailureStreak {
  count: number;
}

interface BatchOutcome {
  pieces: PubmedArticleSetPieces[];
  failed: FailedPmid[];
}

export async function fetchPubmed(client: EutilsClient, pmids: readonly number[], options: FetchPubmedOptions = {}): Promise<FetchPubmedResult> {
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new InputError(`batch size must be an integer from 1 to 10,000, got ${batchSize}`, { input: batchSize });
  }
  const requested = uniquePmids(pmids);
  const { signal } = options;
  const concurrency = options.concurrency ?? 32;
  const result: FetchPubmedResult = { articles: [], books: [], deleted: [], missing: [], failed: [], pmc: new Map() };
  const accounted = new Set<number>();

  const record = (outcome: BatchOutcome): void => {
    for (const pieces of outcome.pieces) {
      for (const piece of pieces.records) {
        if (!claim(piece.pmid)) continue;
        (piece.kind === 'article' ? result.articles : result.books).push(piece);
      }
      for (const pmid of pieces.deleted) if (claim(pmid)) result.deleted.push(pmid);
    }
    for (const failure of outcome.failed) if (claim(failure.pmid)) result.failed.push(failure);
  };
  // Counts a PMID once, and only if it was asked for (NCBI may answer PMID 1 for "-1").
  const claim = (pmid: number): boolean => {
    if (!requested.has(pmid)) {
      client.logger?.warn({ pmid }, 'efetch returned a PMID that was not requested; ignored');
      return false;
    }
    if (accounted.has(pmid)) return false;
    accounted.add(pmid);
    return true;
  };

  const streak: FailureStreak = { count: 0 };
  const batches = chunk([...requested], batchSize);
  for (const outcome of await runConcurrently(batches, concurrency, (batch) => fetchBatch(client, batch, streak, signal))) record(outcome);

  const notReturned = chunk([...requested].filter((pmid) => !accounted.has(pmid)), batchSize);
  for (const outcome of await runConcurrently(notReturned, concurrency, (batch) => fetchBatch(client, batch, streak, signal))) record(outcome);
  result.missing = [...requested].filter((pmid) => !accounted.has(pmid));

  if (options.pmc !== false) {
    const pmcids = [...result.articles, ...result.books].flatMap((piece) => (piece.pmcid === undefined ? [] : [piece.pmcid]));
    result.pmc = await fetchPmc(client, pmcids, { concurrency, signal });
  }
  return result;
}

/** One efetch for `pmids`; on final failure, the two halves separately, down to single PMIDs. */
async function fetchBatch(
  client: EutilsClient,
  pmids: number[],
  streak: FailureStreak,
  signal: AbortSignal | undefined,
  maxAttempts?: number,
): Promise<BatchOutcome> {
  try {
    const pieces = await client.efetch({ db: 'pubmed', id: pmids.join(',') }, cutPubmedArticleSet, { maxAttempts, signal });
    streak.count = 0;
    return { pieces: [pieces], failed: [] };
  } catch (error) {
    if (!(error instanceof EutilsError) || error instanceof EutilsUnreachableError) throw error;
    // An answer too large is still an answer: it says nothing about an outage.
    const oversize = error.cause instanceof OversizeResponseError ? error.cause : undefined;
    if (oversize === undefined) streak.count += 1;
    if (pmids.length === 1 && oversize !== undefined) {
      return { pieces: [], failed: [{ pmid: pmids[0] as number, reason: oversizeReason(pmids[0] as number, oversize) }] };
    }
    if (pmids.length === 1 || (oversize === undefined && streak.count >= OUTAGE_FAILURES)) {
      const reason = pmids.length === 1 ? error.message : `${error.message} (not split further: ${streak.count} calls failed in a row)`;
      return { pieces: [], failed: pmids.map((pmid) => ({ pmid, reason })) };
    }
    client.logger?.warn(
      { size: pmids.length, reason: error.message },
      oversize === undefined ? 'efetch batch failed; retrying its halves' : 'efetch answer too large to parse; asking for its halves',
    );
    const middle = Math.ceil(pmids.length / 2);
    const halves = await Promise.all([
      fetchBatch(client, pmids.slice(0, middle), streak, signal, SPLIT_ATTEMPTS),
      fetchBatch(client, pmids.slice(middle), streak, signal, SPLIT_ATTEMPTS),
    ]);
    return { pieces: halves.flatMap((half) => half.pieces), failed: halves.flatMap((half) => half.failed) };
  }
}

/** Why a PMID is given up whose record alone makes an answer too large, in sizes a reader can compare. */
function oversizeReason(pmid: number, oversize: OversizeResponseError): string {
  const cap = `${megabytes(oversize.capBytes)} MB this process can parse`;
  const size = oversize.bytes === undefined ? `was over the ${cap}` : `was ${megabytes(oversize.bytes)} MB, over the ${cap}`;
  return `NCBI's answer for PMID ${pmid} ${size} (${oversize.message})`;
}

function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}

function uniquePmids(pmids: readonly number[]): Set<number> {
  for (const pmid of pmids) {
    if (!Number.isSafeInteger(pmid) || pmid < 1) throw new InputError(`not a PMID: ${pmid}`, { input: pmid });
  }
  return new Set(pmids);
}
