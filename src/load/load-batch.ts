/**
 * Loads what one fetched batch brought back, inside the caller's transaction: the records, the
 * DeleteCitations, and the PMIDs NCBI left out (tombstoned on their second miss in a row).
 */
import type { Transaction } from 'kysely';
import type { FailedPmid } from '../extract/types.js';
import type { RunCounters } from './runs.js';
import type { Backend } from './db.js';
import type { Database } from './schema.js';
import { markDeleted, recordMissing, type DeleteResult } from './tombstones.js';
import { upsertBatch } from './upsert.js';
import type { UpsertRow } from './upsert-row.js';

export interface FetchedBatch {
  rows: UpsertRow[];
  deleted: number[];
  missing: number[];
}

export interface LoadedBatch {
  counts: Pick<RunCounters, 'inserted' | 'updated' | 'unchanged' | 'deleted' | 'missing'>;
  /** Records that could not be written (their catalogue id belongs to another PMID). */
  failed: FailedPmid[];
}

const NOTHING_DELETED: DeleteResult = { tombstoned: [], alreadyDeleted: 0, unknown: 0 };

export async function loadFetchedBatch(
  trx: Transaction<Database>,
  backend: Backend,
  runId: number,
  batch: FetchedBatch,
): Promise<LoadedBatch> {
  const upserted = await upsertBatch({ db: trx, backend }, batch.rows, runId);
  // Most batches have no deletions and no misses: skip those statements' round trips.
  const citationDeletes = batch.deleted.length === 0 ? NOTHING_DELETED : await markDeleted(trx, batch.deleted, runId, 'delete-citation');
  const missingTwice = batch.missing.length === 0 ? [] : await recordMissing(trx, batch.missing, runId);
  const missingDeletes = missingTwice.length === 0 ? NOTHING_DELETED : await markDeleted(trx, missingTwice, runId, 'missing');
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
