/**
 * Batches of PMIDs fetched through E-utilities. PMIDs stream in and are de-duplicated in a
 * bitmap; a batch's fetch starts as the batch is yielded, so the pipeline's look-ahead keeps
 * several fetches overlapping. Told to stop (`signal`), the source takes no more input and yields
 * the batch it was filling; given up (`cancel`), it yields nothing more and its fetches end.
 */
import type { EutilsClient } from '../extract/eutils-client.js';
import { fetchPubmed } from '../extract/fetch-pubmed.js';
import type { Logger } from '../logger.js';
import { NO_PARTS, type SourceBatch } from './batch-source.js';
import { cancellableInput } from './cancellable-input.js';
import { InvalidInputLog } from './invalid-input-log.js';
import type { PmidItem } from './pmid-input.js';
import { PmidSet } from './pmid-set.js';

/** Where a run stands in its input: every item up to `position` is loaded (or refused). */
export interface InputCheckpoint {
  position: number;
}

export interface EutilsSourceOptions {
  client: EutilsClient;
  logger: Logger;
  batchSize: number;
  pmc: boolean;
  /** The run's stored checkpoint: items up to it are only noted as seen. */
  checkpoint: unknown;
  signal?: AbortSignal;
  cancel?: AbortSignal;
}

interface Filling {
  pmids: number[];
  endPosition: number;
  invalid: number;
}

export function inputPosition(checkpoint: unknown): number {
  return Number((checkpoint as InputCheckpoint | null)?.position ?? 0);
}

export async function* eutilsBatches(items: AsyncIterable<PmidItem>, options: EutilsSourceOptions): AsyncGenerator<SourceBatch> {
  const { client, cancel } = options;
  const resumeAfter = inputPosition(options.checkpoint);
  const start = (batch: Filling): SourceBatch => ({
    requested: batch.pmids.length,
    invalid: batch.invalid,
    done: batch.endPosition,
    checkpoint: { position: batch.endPosition } satisfies InputCheckpoint,
    parts:
      batch.pmids.length === 0
        ? Promise.resolve(NO_PARTS)
        : fetchPubmed(client, batch.pmids, { pmc: options.pmc, batchSize: options.batchSize, signal: cancel }).then((fetched) => ({
            records: [...fetched.articles, ...fetched.books],
            pmc: [...fetched.pmc],
            deleted: fetched.deleted,
            missing: fetched.missing,
            failed: fetched.failed,
          })),
  });

  const input = cancellableInput(items, cancel);
  let closed = false;
  try {
    const seen = new PmidSet();
    const invalidInput = new InvalidInputLog(options.logger);
    let batch: Filling = { pmids: [], endPosition: resumeAfter, invalid: 0 };
    for (let item = await input.next(); item !== undefined; item = await input.next()) {
      if (item.position <= resumeAfter) {
        if (item.kind === 'pmid') seen.add(item.pmid);
        continue;
      }
      if (options.signal?.aborted === true) break;
      if (item.kind === 'invalid') {
        invalidInput.add(item);
        batch.invalid += 1;
      } else if (seen.add(item.pmid)) {
        batch.pmids.push(item.pmid);
      }
      batch.endPosition = item.position;
      if (batch.pmids.length >= options.batchSize) {
        yield start(batch);
        batch = { pmids: [], endPosition: item.position, invalid: 0 };
      }
    }
    closed = true;
    await input.close();
    invalidInput.finish();
    // Given up, the batch being filled is not fetched: the checkpoint stays before it.
    if (cancel?.aborted !== true && (batch.pmids.length > 0 || batch.invalid > 0)) yield start(batch);
  } finally {
    // As a `for await` loop would: the input is closed when reading ends early or fails.
    if (!closed) await input.close().catch(() => undefined);
  }
}
