/**
 * Loads what one fetched batch brought back, inside the caller's transaction: the records, the
 * DeleteCitations, and the PMIDs NCBI left out (tombstoned on their second miss in a row, while
 * NCBI looks healthy: see missing-guard.ts).
 */
import type { Transaction } from 'kysely';
import type { FailedPmid } from '../extract/types.js';
import type { RunCounters } from './runs.js';
import type { Backend } from './db.js';
import type { Database } from './schema.js';
import { settleMissing, type MissingGuard } from './missing-guard.js';
import { markDeleted } from './tombstones.js';
import { applyFileDeletions, deletedUnchanged, lockForFileBatch, reapplyLaterDeletions, type FileOrigin } from './file-deletions.js';
import { olderThanStored } from './older-records.js';
import { loadIsolatingRefused } from './refused-records.js';
import { upsertBatch, type UpsertOutcome, type UpsertResult } from './upsert.js';
import type { UpsertRow } from './upsert-row.js';

export interface FetchedBatch {
  rows: UpsertRow[];
  deleted: number[];
  missing: number[];
  /** PMIDs the batch asked for: the share of missing ones is measured against it. */
  requested: number;
  /** False for records rebuilt from stored XML, not checked against NCBI (see upsert.ts). */
  checked?: boolean;
  /** The bulk file the batch was read from: file order decides what is older (see file-deletions.ts). */
  origin?: FileOrigin;
  /** Rebuilt records: the version each had when its XML was read (see SourceParts.versionsRead). */
  versionsRead?: ReadonlyMap<number, number>;
}

export interface LoadedBatch {
  counts: Pick<RunCounters, 'inserted' | 'updated' | 'unchanged' | 'deleted' | 'missing' | 'older'>;
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
  /** Missing records left unsettled because NCBI looked unhealthy: failed, for one reason. */
  held?: { pmids: number[]; reason: string };
}

export async function loadFetchedBatch(
  trx: Transaction<Database>,
  backend: Backend,
  runId: number,
  batch: FetchedBatch,
  guard: MissingGuard,
): Promise<LoadedBatch> {
  const { origin } = batch;
  if (origin !== undefined) await lockForFileBatch(trx, batch.deleted.length > 0);
  // Records rebuilt from stored XML are the stored ones, never older; a file's are checked by the upsert itself.
  const older = batch.checked === false || origin !== undefined ? new Set<number>() : await olderThanStored(trx, backend, batch.rows);
  const stillDeleted = origin === undefined ? new Set<number>() : await deletedUnchanged(trx, backend, batch.rows, origin);
  const rows = older.size + stillDeleted.size === 0 ? batch.rows : batch.rows.filter((row) => !older.has(row.pmid) && !stillDeleted.has(row.pmid));
  // A record the database refuses fails alone, and the rest of the batch loads.
  const { loaded, refused } = await loadIsolatingRefused(trx, rows, (part) =>
    upsertBatch({ db: trx, backend }, part, runId, {
      ...(batch.checked === false ? { checked: false } : {}),
      ...(origin === undefined ? {} : { importOrder: origin.importOrder }),
      ...(batch.versionsRead === undefined ? {} : { versionsRead: batch.versionsRead }),
    }),
  );
  const upserted = combined(loaded);
  let olderDeletions = 0;
  if (origin !== undefined) {
    const written = [...upserted.outcomes].filter(([, outcome]) => outcome === 'inserted' || outcome === 'updated' || outcome === 'restored');
    await reapplyLaterDeletions(trx, backend, written.map(([pmid]) => pmid), runId, origin);
    if (batch.deleted.length > 0) olderDeletions = (await applyFileDeletions(trx, backend, batch.deleted, runId, origin)).older;
  } else if (batch.deleted.length > 0) {
    // Most batches have no deletions and no misses: skip those statements' round trips.
    await markDeleted(trx, batch.deleted, runId, 'delete-citation');
  }
  const misses = await settleMissing(trx, runId, batch, guard);
  const failed = [
    ...[...upserted.conflicts].map(([pmid, holder]) => ({
      pmid,
      reason: `its catalogue id is held by PMID ${holder}; it loads once that record is refreshed`,
    })),
    ...refused,
  ];
  const invalidEncoding = rows
    .filter((row) => row.replacement_characters > 0)
    .map((row) => ({
      pmid: row.pmid,
      reason: `its XML holds ${row.replacement_characters} U+FFFD replacement character(s): bytes NCBI sent that were not UTF-8, or characters NCBI's data had already lost`,
    }));
  return {
    counts: {
      inserted: upserted.counts.inserted,
      updated: upserted.counts.updated + upserted.counts.restored,
      unchanged: upserted.counts.unchanged + stillDeleted.size,
      // Each PMID counts once, so the counters add up to `requested`: a DeleteCitation is
      // `deleted` whether or not there was a record to tombstone, and a miss that tombstones or
      // is held counts as that instead of `missing`.
      // A file's deletion of a record that came from a later file counts as older instead.
      deleted: batch.deleted.length - olderDeletions + misses.tombstoned.length,
      missing: batch.missing.length - misses.tombstoned.length - (misses.held?.pmids.length ?? 0),
      older: older.size + upserted.counts.older + olderDeletions,
    },
    failed,
    invalidEncoding,
    ...(misses.held === undefined ? {} : { held: misses.held }),
  };
}

/** The counts and id conflicts of the parts a batch was loaded in. */
function combined(parts: readonly UpsertResult[]): Pick<UpsertResult, 'counts' | 'conflicts' | 'outcomes'> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0, restored: 0, older: 0, conflict: 0 };
  for (const part of parts) {
    for (const outcome of Object.keys(counts) as UpsertOutcome[]) counts[outcome] += part.counts[outcome];
  }
  return {
    counts,
    conflicts: new Map(parts.flatMap((part) => [...part.conflicts])),
    outcomes: new Map(parts.flatMap((part) => [...part.outcomes])),
  };
}
