/**
 * Loads a batch of records (upsert-row.ts) with change tracking, in one transaction:
 * - a new PMID gets version 1 and an `insert` history row;
 * - an equal content hash writes nothing but the record's last_checked_at;
 * - a different hash writes version + 1 and an `update` history row naming the changed fields;
 * - a tombstone that comes back is `restore`d (version + 1) even when its content is unchanged.
 * Facets and source XML are written with the version that uses them. Loading the batch again
 * changes nothing but last_checked_at, so a crashed batch can simply be re-run.
 *
 * The work is two SQL statements (upsert-statement.ts): one settles the unchanged records from
 * their hashes alone, one writes the rest. The second checks every write against the version
 * its snapshot read, so a record that another loader changed in the meantime is left alone and
 * comes back as `pending`; this module then runs the statement again for those records, whose
 * fresh snapshot sees the other loader's commit. That gives exactly one version per real change
 * without locking records that turn out unchanged.
 */
import type { Transaction } from 'kysely';
import { DatabaseError } from '../errors.js';
import type { DatabaseTarget } from './db.js';
import type { Database } from './schema.js';
import type { UpsertRow } from './upsert-row.js';
import { settleRebuiltUnchanged } from './rebuilt-unchanged.js';
import { runUpsertStatement, touchUnchanged } from './upsert-statement.js';

export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged' | 'restored' | 'older' | 'conflict';

export interface UpsertResult {
  counts: Record<UpsertOutcome, number>;
  outcomes: Map<number, UpsertOutcome>;
  /**
   * For each `conflict`: the PMID that holds the catalogue id this record claims. The record is
   * not written; it loads once the holder lets go of the id (a refresh of the holder, typically).
   */
  conflicts: Map<number, number>;
}

/** Rounds after which records still overtaken by other loaders are reported as an error. */
const MAX_ROUNDS = 10;

export interface UpsertOptions {
  /**
   * False for records rebuilt from their stored XML: nothing was checked against NCBI, so an
   * unchanged record keeps its last_checked_at (see rebuilt-unchanged.ts).
   */
  checked?: boolean;
  /** import_file.import_order of the bulk file the rows come from (see upsert-statement.ts). */
  importOrder?: number;
  /** Rows rebuilt from stored XML: the version each record had when the XML was read (see upsert-statement.ts). */
  versionsRead?: ReadonlyMap<number, number>;
}

export async function upsertBatch(target: DatabaseTarget, rows: readonly UpsertRow[], runId: number, options: UpsertOptions = {}): Promise<UpsertResult> {
  const { db, backend } = target;
  const outcomes = new Map<number, UpsertOutcome>();
  const conflicts = new Map<number, number>();
  let pending = lastOfEachPmid(rows);

  // Inside the caller's transaction when given one (the pipeline commits the batch with the run's
  // counters and checkpoint), else in a transaction of its own.
  const inTransaction = (work: (trx: Transaction<Database>) => Promise<void>): Promise<void> =>
    db.isTransaction ? work(db as Transaction<Database>) : db.transaction().execute(work);
  const loading = inTransaction(async (trx) => {
    const origin = {
      ...(options.importOrder === undefined ? {} : { importOrder: options.importOrder }),
      ...(options.versionsRead === undefined ? {} : { versionsRead: options.versionsRead }),
      rebuilt: options.checked === false,
    };
    const unchanged = options.checked === false ? await settleRebuiltUnchanged(trx, backend, pending) : await touchUnchanged(trx, backend, pending, origin);
    for (const pmid of unchanged) outcomes.set(pmid, 'unchanged');
    pending = pending.filter((row) => !unchanged.has(row.pmid));
    for (let round = 1; pending.length > 0; round += 1) {
      if (round > MAX_ROUNDS) {
        throw new DatabaseError(`${pending.length} records kept being changed by other loaders; batch rolled back`, {
          input: pending.map((row) => row.pmid),
        });
      }
      const results = await runUpsertStatement(trx, backend, pending, runId, origin);
      const next: UpsertRow[] = [];
      conflicts.clear();
      for (const row of pending) {
        const result = results.get(row.pmid);
        if (result?.outcome !== undefined) outcomes.set(row.pmid, result.outcome);
        else {
          next.push(row);
          if (result?.idHolder !== undefined) conflicts.set(row.pmid, result.idHolder);
        }
      }
      // A record waits on an id holder only while the holder is moving away in this batch: once
      // a round writes nothing but id claims are left, they are real conflicts.
      const stuck = next.length === pending.length && conflicts.size === next.length;
      pending = stuck ? [] : next;
    }
  });
  await loading.catch((error: unknown) => {
    if (error instanceof DatabaseError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new DatabaseError(`loading a batch of ${rows.length} records failed: ${message}`, {
      input: rows.map((row) => row.pmid),
      cause: error,
    });
  });
  for (const pmid of conflicts.keys()) outcomes.set(pmid, 'conflict');
  return { counts: countOutcomes(outcomes), outcomes, conflicts };
}

/** Duplicates inside a batch: the last one is the newest fetch, so it wins. */
function lastOfEachPmid(rows: readonly UpsertRow[]): UpsertRow[] {
  const byPmid = new Map<number, UpsertRow>();
  for (const row of rows) {
    byPmid.delete(row.pmid);
    byPmid.set(row.pmid, row);
  }
  return [...byPmid.values()];
}

function countOutcomes(outcomes: Map<number, UpsertOutcome>): Record<UpsertOutcome, number> {
  const counts: Record<UpsertOutcome, number> = { inserted: 0, updated: 0, unchanged: 0, restored: 0, older: 0, conflict: 0 };
  for (const outcome of outcomes.values()) counts[outcome] += 1;
  return counts;
}
