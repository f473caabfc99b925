/**
 * Loads what one fetched batch brought back, inside the caller's transaction: the records, the
 * DeleteCitations, and the PMIDs NCBI left out (tombstoned on their second miss in a row).
 */
import type { Transaction } from 'kysely';
import type { FailedPmid } from '../extract/types.js';
import type { TransformedRecord } from '../transform/types.js';
import type { RunCounters } from './runs.js';
import type { Database } from './schema.js';
import { markDeleted, recordMissing } from './tombstones.js';
import { upsertBatch } from './upsert.js';

export interface FetchedBatch {
  transformed: TransformedRecord[];
  deleted: number[];
  missing: number[];
}

export interface LoadedBatch {
  counts: Pick<RunCounters, 'inserted' | 'updated' | 'unchanged' | 'deleted' | 'missing'>;
  /** Records that could not be written (their catalogue id belongs to another PMID). */
  failed: FailedPmid[];
}

export async function loadFetchedBatch(trx: Transaction<Database>, runId: number, batch: FetchedBatch): Promise<LoadedBatch> {
  const upserted = await upsertBatch(trx, batch.transformed, runId);
  const citationDeletes = await markDeleted(trx, batch.deleted, runId, 'delete-citation');
  const missingTwice = await recordMissing(trx, batch.missing, runId);
  const missingDeletes = await markDeleted(trx, missingTwice, runId, 'missing');
  const failed = [...upserted.conflicts].map(([pmid, holder]) => ({
    pmid,
    reason: `its catalogue id is held by PMID ${holder}; it loads once that record is refreshed`,
  }));
  return {
    counts: {
      inserted: upserted.counts.inserted,
      updated: upserted.counts.updated + upserted.counts.restored,
      unchanged: upserted.counts.unchanged,
      deleted: citationDeletes.tombstoned.length + missingDeletes.tombstoned.length,
      missing: batch.missing.length,
    },
    failed,
  };
}
