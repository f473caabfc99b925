/**
 * The frozen hit list of a `backfill --query` run. The run's checkpoint is a position in the list
 * of hits, and PubMed's list shifts as records are added, so the list is stored with the run
 * (query_snapshot, sql/011) and a resumed run reads it back instead of searching again.
 *
 * esearch runs ahead of the load: a writer stores its PMIDs in chunks of 10,000 as the pages
 * arrive, and the run reads each chunk once it is committed. So a position is only ever loaded
 * once the chunk holding it is stored: positions refer to the snapshot. A run killed while the
 * list was still being written keeps the chunks it stored (its checkpoint lies within them) and
 * searches again for the rest, adding only PMIDs the stored chunks lack. Memory holds one chunk
 * being written, one being read, and a bitmap of the PMIDs listed.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { PmidSet } from '../pipeline/pmid-set.js';
import { bigintArray } from './array-params.js';
import type { DatabaseTarget } from './db.js';
import { RunTakenOverError, type RunHandle } from './runs.js';
import type { Database } from './schema.js';

export const SNAPSHOT_CHUNK_PMIDS = 10_000;

type SnapshotRun = Pick<RunHandle, 'id' | 'replica'>;

/**
 * The hits of the run's query in snapshot order: read back when the snapshot is complete, else
 * listed by `search` (fresh, or after the chunks an interrupted run stored) and stored as they come.
 */
export async function* frozenQueryHits(
  target: DatabaseTarget,
  run: SnapshotRun,
  search: () => AsyncIterable<number>,
  chunkPmids = SNAPSHOT_CHUNK_PMIDS,
): AsyncGenerator<number> {
  const { db } = target;
  const stored = await openSnapshot(db, run.id);
  const writer = stored.complete ? undefined : new SnapshotWriter(target, run, stored.chunks, chunkPmids);
  const writing = writer?.write(search);
  try {
    for (let chunk = 0; writer === undefined ? chunk < stored.chunks : await writer.hasChunk(chunk); chunk += 1) {
      yield* await readChunk(db, run.id, chunk);
    }
  } finally {
    // The run stopped reading (done, interrupted or failed): the writer stops after the esearch
    // page under way, leaving what it stored for the run that resumes this one.
    writer?.stop();
    await writing;
  }
}

/** Hits in the run's snapshot once it is complete (the progress bar's total); else undefined. */
export async function frozenHitCount(db: Kysely<Database>, runId: number): Promise<number | undefined> {
  const { rows } = await sql<{ hits: number | null }>`SELECT hits FROM query_snapshot WHERE run_id = ${runId}`.execute(db);
  return rows[0]?.hits ?? undefined;
}

/** Drops the snapshots of finished runs: a finished run is never resumed, a rerun searches afresh. */
export async function dropFinishedSnapshots(db: Kysely<Database>): Promise<void> {
  await sql`
    DELETE FROM query_snapshot s USING etl_run r
    WHERE r.id = s.run_id AND r.status IN ('succeeded', 'partial')
  `.execute(db);
}

/** The run's snapshot as stored: how many chunks, and whether the list is complete. */
async function openSnapshot(db: Kysely<Database>, runId: number): Promise<{ chunks: number; complete: boolean }> {
  const { rows } = await sql<{ complete: boolean; chunks: number | string }>`
    SELECT s.completed_at IS NOT NULL AS complete, (SELECT count(*) FROM query_snapshot_chunk c WHERE c.run_id = s.run_id) AS chunks
    FROM query_snapshot s WHERE s.run_id = ${runId}
  `.execute(db);
  const found = rows[0];
  if (found !== undefined) return { chunks: Number(found.chunks), complete: found.complete };
  await dropFinishedSnapshots(db);
  await sql`INSERT INTO query_snapshot (run_id) VALUES (${runId})`.execute(db);
  return { chunks: 0, complete: false };
}

async function readChunk(db: Kysely<Database>, runId: number, chunk: number): Promise<number[]> {
  // As text: each backend reads a bigint[] its own way, and a comma-separated list reads the same on both.
  const { rows } = await sql<{ pmids: string }>`
    SELECT array_to_string(pmids, ',') AS pmids FROM query_snapshot_chunk WHERE run_id = ${runId} AND chunk = ${chunk}
  `.execute(db);
  const text = rows[0]?.pmids ?? '';
  return text === '' ? [] : text.split(',').map(Number);
}

/**
 * Stores what `search` lists, chunk by chunk, while the run reads the chunks already committed.
 * Its outcome reaches the run through `hasChunk`: a failed search fails the run, which can be resumed.
 */
class SnapshotWriter {
  private committed: number;
  /** PMIDs in the committed chunks. */
  private hits = 0;
  private outcome: { state: 'writing' } | { state: 'complete' } | { state: 'failed'; error: unknown } = { state: 'writing' };
  private stopped = false;
  private wake: () => void = () => undefined;

  constructor(
    private readonly target: DatabaseTarget,
    private readonly run: SnapshotRun,
    storedChunks: number,
    private readonly chunkPmids: number,
  ) {
    this.committed = storedChunks;
  }

  /** True once chunk `chunk` is committed, false when the list ended before it; rejects if the search failed. */
  hasChunk(chunk: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (chunk < this.committed) resolve(true);
        else if (this.outcome.state === 'complete') resolve(false);
        else if (this.outcome.state === 'failed') reject(this.outcome.error);
        else this.wake = check;
      };
      check();
    });
  }

  stop(): void {
    this.stopped = true;
  }

  /** Never rejects: a failure is kept for `hasChunk`. */
  async write(search: () => AsyncIterable<number>): Promise<void> {
    try {
      const listed = await this.storedPmids();
      let pending: number[] = [];
      for await (const pmid of search()) {
        if (this.stopped) return;
        if (!listed.add(pmid)) continue;
        pending.push(pmid);
        if (pending.length === this.chunkPmids) {
          const full = pending;
          await this.inRunTransaction((trx) => this.insertChunk(trx, full));
          pending = [];
          this.chunkCommitted(full.length);
        }
      }
      const last = pending;
      await this.inRunTransaction(async (trx) => {
        if (last.length > 0) await this.insertChunk(trx, last);
        const hits = this.hits + last.length;
        await sql`UPDATE query_snapshot SET completed_at = now(), hits = ${hits} WHERE run_id = ${this.run.id}`.execute(trx);
      });
      if (last.length > 0) this.chunkCommitted(last.length);
      this.outcome = { state: 'complete' };
    } catch (error) {
      this.outcome = { state: 'failed', error };
    } finally {
      this.notify();
    }
  }

  /** PMIDs of the chunks an interrupted run stored: the search adds only what they lack. */
  private async storedPmids(): Promise<PmidSet> {
    const listed = new PmidSet();
    for (let chunk = 0; chunk < this.committed; chunk += 1) {
      const pmids = await readChunk(this.target.db, this.run.id, chunk);
      for (const pmid of pmids) listed.add(pmid);
      this.hits += pmids.length;
    }
    return listed;
  }

  /**
   * Only the process holding the run writes its list. The lock on the run row makes a takeover
   * wait for the chunk being written, so the new holder sees every chunk stored before it.
   */
  private async inRunTransaction(work: (trx: Transaction<Database>) => Promise<void>): Promise<void> {
    await this.target.db.transaction().execute(async (trx) => {
      const { rows } = await sql`
        SELECT 1 FROM etl_run WHERE id = ${this.run.id} AND replica = ${this.run.replica} AND status = 'running' FOR SHARE
      `.execute(trx);
      if (rows.length === 0) {
        throw new RunTakenOverError(`run ${this.run.id} is no longer held by ${this.run.replica}; its query list was left as it was`, {
          input: this.run.id,
        });
      }
      await work(trx);
    });
  }

  private async insertChunk(trx: Transaction<Database>, pmids: number[]): Promise<void> {
    await sql`
      INSERT INTO query_snapshot_chunk (run_id, chunk, pmids)
      VALUES (${this.run.id}, ${this.committed}, ${bigintArray(this.target.backend, pmids)}::bigint[])
    `.execute(trx);
  }

  private chunkCommitted(pmids: number): void {
    this.committed += 1;
    this.hits += pmids;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = () => undefined;
    wake();
  }
}
