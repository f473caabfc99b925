/**
 * The state of each bulk file (import_file): which importer holds it, how far its import got,
 * whether it is done. An importer claims a file under `FOR UPDATE SKIP LOCKED`, so two importers
 * never take the same file, and keeps it by heart-beating; a file whose importer is gone (its
 * process is dead, or its heartbeat stale) is taken over from its checkpoint. The checkpoint is
 * written in each batch's transaction, so after a kill it says exactly what is loaded.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { FileOrder } from '../extract/import-file.js';
import { replicaMayBeAlive, RunTakenOverError, STALE_HEARTBEAT_SECONDS } from './runs.js';
import type { Database, ImportFileStatus } from './schema.js';

/** Items of the file loaded so far: records, and PMIDs of its DeleteCitations, in file order. */
export interface FileCheckpoint {
  items: number;
  records: number;
  deleted: number;
}

export const NO_PROGRESS: Readonly<FileCheckpoint> = Object.freeze({ items: 0, records: 0, deleted: 0 });

export interface FileFacts extends FileOrder {
  name: string;
  size: number;
}

export type Claim =
  | { claimed: true; checkpoint: FileCheckpoint; resumed: boolean; /** The md5 the file had when its checkpoint was written. */ md5: string | null }
  | { claimed: false; why: 'done'; records: number; deleted: number }
  | { claimed: false; why: 'busy'; holder: string | null };

/** Claims the file for this importer: to import it afresh, resume it, or (`force`) import it again though done. */
export async function claimFile(db: Kysely<Database>, file: FileFacts, holder: string, runId: number, force: boolean): Promise<Claim> {
  return db.transaction().execute(async (trx): Promise<Claim> => {
    await trx
      .insertInto('import_file')
      .values({ name: file.name, series: file.series, sequence: file.sequence, import_order: file.order, size: file.size })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const { rows } = await sql<{ status: ImportFileStatus; md5: string | null; claimed_by: string | null; run_id: number | null; stale: boolean; checkpoint: Partial<FileCheckpoint> | null; records: number | null; deleted: number | null }>`
      SELECT status, md5, claimed_by, run_id, checkpoint, records, deleted,
        coalesce(heartbeat_at < now() - make_interval(secs => ${STALE_HEARTBEAT_SECONDS}), true) AS stale
      FROM import_file WHERE name = ${file.name}
      FOR UPDATE SKIP LOCKED
    `.execute(trx);
    const row = rows[0];
    if (row === undefined) return { claimed: false, why: 'busy', holder: null };
    if (row.status === 'done' && !force) return { claimed: false, why: 'done', records: row.records ?? 0, deleted: row.deleted ?? 0 };
    if (row.status === 'running' && row.claimed_by !== holder && row.claimed_by !== null && !row.stale && replicaMayBeAlive(row.claimed_by)) {
      return { claimed: false, why: 'busy', holder: row.claimed_by };
    }
    if (row.status === 'running' && row.claimed_by !== null && row.claimed_by !== holder && row.run_id !== null) {
      // Its importer died without a word (SIGKILL, a lost machine): its run says so, as a killed backfill's does.
      await trx
        .updateTable('etl_run')
        .set({ status: 'failed', finished_at: sql`heartbeat_at`, error: `its process (${row.claimed_by}) stopped without finishing; ${file.name} was taken over from its checkpoint` })
        .where('id', '=', row.run_id)
        .where('replica', '=', row.claimed_by)
        .where('status', '=', 'running')
        .execute();
    }
    const fresh = row.status === 'done' || row.checkpoint === null;
    const checkpoint = fresh ? { ...NO_PROGRESS } : readCheckpoint(row.checkpoint ?? {});
    await trx
      .updateTable('import_file')
      .set({
        status: 'running',
        claimed_by: holder,
        run_id: runId,
        heartbeat_at: sql`now()`,
        started_at: sql`now()`,
        finished_at: null,
        error: null,
        size: file.size,
        checkpoint: JSON.stringify(checkpoint),
        ...(fresh ? { records: null, deleted: null } : {}),
      })
      .where('name', '=', file.name)
      .execute();
    return { claimed: true, checkpoint, resumed: !fresh && checkpoint.items > 0, md5: row.md5 };
  });
}

function readCheckpoint(stored: Partial<FileCheckpoint>): FileCheckpoint {
  return { items: Number(stored.items ?? 0), records: Number(stored.records ?? 0), deleted: Number(stored.deleted ?? 0) };
}

/**
 * Moves the file's checkpoint; call in the batch's transaction. An importer that lost the file
 * (taken over while it was paused) gets RunTakenOverError, and its batch rolls back.
 */
export async function recordFileProgress(trx: Transaction<Database>, name: string, holder: string, checkpoint: FileCheckpoint): Promise<void> {
  const result = await trx
    .updateTable('import_file')
    .set({ checkpoint: JSON.stringify(checkpoint), heartbeat_at: sql`now()` })
    .where('name', '=', name)
    .where('claimed_by', '=', holder)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) {
    throw new RunTakenOverError(`${name} is no longer held by ${holder} (another importer took it over); its batch was rolled back`, { input: name });
  }
}

export async function fileHeartbeat(db: Kysely<Database>, name: string, holder: string): Promise<void> {
  await db
    .updateTable('import_file')
    .set({ heartbeat_at: sql`now()` })
    .where('name', '=', name)
    .where('claimed_by', '=', holder)
    .where('status', '=', 'running')
    .execute();
}

/** Ends the file's import: done with its totals, or failed with why (its checkpoint stays, to resume from). */
export async function closeFile(
  db: Kysely<Database>,
  name: string,
  holder: string,
  outcome: { done: true; md5: string; checkpoint: FileCheckpoint } | { done: false; error: string; md5?: string },
): Promise<void> {
  await db
    .updateTable('import_file')
    .set({
      status: outcome.done ? 'done' : 'failed',
      finished_at: sql`now()`,
      heartbeat_at: sql`now()`,
      error: outcome.done ? null : outcome.error,
      ...(outcome.md5 === undefined ? {} : { md5: outcome.md5 }),
      ...(outcome.done ? { records: outcome.checkpoint.records, deleted: outcome.checkpoint.deleted } : {}),
    })
    .where('name', '=', name)
    .where('claimed_by', '=', holder)
    .execute();
}

/** Notes the md5 of the file being loaded, before its first batch: the checkpoint belongs to that file. */
export async function noteFileMd5(db: Kysely<Database>, name: string, holder: string, md5: string): Promise<void> {
  await db.updateTable('import_file').set({ md5 }).where('name', '=', name).where('claimed_by', '=', holder).execute();
}
