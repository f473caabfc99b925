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
import { loadIsolatingRefused } from './refused-records.js';
import { upsertBatch, type UpsertOutcome, type UpsertResult } from './upsert.js';
import type { UpsertRow } from './upsert-row.js';

export interface FetchedBatch {
  rows: UpsertRow[];
  deleted: number[];
  missing: number[];
}

export interface LoadedBatch {
  counts: Pick<RunCounters, 'inserted' | 'updated' | 'unchanged' | 'deleted' | 'missing'>;
  /**
   * Records that could not be written: their catalogue id belongs to another PMID, or the
   * database refused a value of theirs (the rest of the batch loads all the same).
   */
  failed: FailedPmid[];
  /**
   * Records whose XML held U+FFFD replacement characters (bytes that were not UTF-8): loaded with
   * them, and to be reported with their PMID, since the characters they stood for are lost.
   */
  invalidEncoding: Array<{ pmid: number; reason: string }>;
}

const NOTHING_DELETED: DeleteResult = { tombstoned: [], alreadyDeleted: 0, unknown: 0 };

export async function loadFetchedBatch(
  trx: Transaction<Database>,
  backend: Backend,
  runId: number,
  batch: FetchedBatch,
): Promise<LoadedBatch> {
  // A record the database refuses fails alone, and the rest of the batch loads.
  const { loaded, refused } = await loadIsolatingRefused(trx, batch.rows, (part) => upsertBatch({ db: trx, backend }, part, runId));
  const upserted = combined(loaded);
  // Most batches have no deletions and no misses: skip those statements' round trips.
  const citationDeletes = batch.deleted.length === 0 ? NOTHING_DELETED : await markDeleted(trx, batch.deleted, runId, 'delete-citation');
  const missingTwice = batch.missing.length === 0 ? [] : await recordMissing(trx, batch.missing, runId);
  const missingDeletes = missingTwice.length === 0 ? NOTHING_DELETED : await markDeleted(trx, missingTwice, runId, 'missing');
  const failed = [
    ...[...upserted.conflicts].map(([pmid, holder]) => ({
      pmid,
      reason: `its catalogue id is held by PMID ${holder}; it loads once that record is refreshed`,
    })),
    ...refused,
  ];
  const invalidEncoding = batch.rows
    .filter((row) => row.replacement_characters > 0)
    .map((row) => ({
      pmid: row.pmid,
      reason: `its XML holds ${row.replacement_characters} U+FFFD replacement character(s): bytes NCBI sent that were not UTF-8, or characters NCBI's data had already lost`,
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
    invalidEncoding,
  };
}

/** The counts and id conflicts of the parts a batch was loaded in. */
function combined(parts: readonly UpsertResult[]): Pick<UpsertResult, 'counts' | 'conflicts'> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0, restored: 0, conflict: 0 };
  for (const part of parts) {
    for (const outcome of Object.keys(counts) as UpsertOutcome[]) counts[outcome] += part.counts[outcome];
  }
  return { counts, conflicts: new Map(parts.flatMap((part) => [...part.conflicts])) };
}
