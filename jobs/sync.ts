/**
 * The sync job: runs every saved search, oldest first, for the records PubMed added or modified
 * since that search last synced, and loads them. The first sync of a search loads every hit.
 *
 * The window is by modification date (`datetype=mdat`) and starts a day before the search's
 * `synced_until`: PubMed dates are whole days (in US Eastern time), so the overlap makes sure a
 * record modified on the boundary day is never missed; loading it twice writes nothing.
 * `synced_until` moves to the moment the search was started, and only once everything it found is
 * committed with no PMID failed (a failed PMID would otherwise never be asked for again).
 *
 * A run made of several searches keeps its place in `etl_run.stage`: the searches done, and the
 * one in progress with its window, which the checkpoint's position counts within. A resumed run
 * skips the searches done and continues the one in progress, unless its window moved since.
 */
import { sql } from 'kysely';
import { searchPubmed, type SearchPubmedOptions } from '../src/extract/esearch.js';
import { listSavedSearches, recordSearchSynced, type SavedSearch } from '../src/load/saved-searches.js';
import type { RunCounters } from '../src/load/runs.js';
import { runPipeline } from '../src/pipeline.js';
import { numberedPmids } from '../src/pipeline/pmid-input.js';
import type { ClaimedRun } from '../src/load/run-claims.js';
import type { JobContext } from './context.js';

/** Every sync run uses this input key, so a manual sync and the scheduler never overlap. */
export const SYNC_INPUT_KEY = 'sync';

/** How far before `synced_until` the next window starts. */
export const SYNC_OVERLAP_MS = 86_400_000;

/** Where a sync run stands (etl_run.stage). */
export interface SyncStage {
  done: string[];
  current?: {
    search: string;
    query: string;
    /** The window start the search was started with (ISO), null for a first sync. */
    since: string | null;
    /** When the search was started: its new `synced_until` once it completes. */
    startedAt: string;
    /** The run's failed count when the search started: more at the end means PMIDs failed. */
    failedBefore: number;
  };
}

export async function syncSavedSearches(run: ClaimedRun, context: JobContext): Promise<RunCounters> {
  const { database, logger } = context;
  const searches = await listSavedSearches(database.db);
  if (searches.length === 0) logger.info({ runId: run.id }, 'no saved searches to sync (add one with `pubcat search add NAME QUERY`)');
  let stage = readStage(run.stage);
  let counters = { ...run.counters };
  const stopping = (): boolean => context.signal?.aborted === true;
  for (const search of searches) {
    if (stopping()) break;
    if (stage.done.includes(search.name)) continue;
    const since = search.syncedUntil?.toISOString() ?? null;
    const current = stage.current;
    const resuming = current !== undefined && current.search === search.name && current.query === search.query && current.since === since;
    if (!resuming) {
      stage = {
        done: stage.done,
        current: { search: search.name, query: search.query, since, startedAt: new Date().toISOString(), failedBefore: counters.failed },
      };
      await writeStage(context, run.id, stage);
    }
    const checkpoint = resuming ? run.checkpoint : null;
    const window = searchWindow(search);
    logger.info({ runId: run.id, search: search.name, query: search.query, ...window, resuming: checkpoint !== null }, 'syncing saved search');
    counters = await runPipeline(
      { ...run, counters, checkpoint, resumed: checkpoint !== null },
      numberedPmids(searchPubmed(context.client, search.query, { ...window, signal: context.cancel })),
      context,
      context.settings,
    );
    // Stopped part-way: the stage and checkpoint say where the next run picks up.
    if (stopping()) break;
    const started = stage.current!;
    const complete = counters.failed === started.failedBefore;
    stage = { done: [...stage.done, search.name] };
    await database.db.transaction().execute(async (trx) => {
      if (complete) await recordSearchSynced(trx, search.name, new Date(started.startedAt), run.id);
      await trx.updateTable('etl_run').set({ stage: JSON.stringify(stage), checkpoint: null }).where('id', '=', run.id).execute();
    });
    if (complete) logger.info({ runId: run.id, search: search.name, syncedUntil: started.startedAt }, 'saved search synced');
    else logger.warn({ runId: run.id, search: search.name, failed: counters.failed - started.failedBefore }, 'saved search kept its window: some PMIDs failed');
  }
  return counters;
}

/** The esearch window: all hits on a first sync, else modified since `synced_until` less the overlap. */
export function searchWindow(search: Pick<SavedSearch, 'syncedUntil'>, now: Date = new Date()): SearchPubmedOptions {
  if (search.syncedUntil === null) return {};
  return {
    datetype: 'mdat',
    mindate: formatDay(new Date(search.syncedUntil.getTime() - SYNC_OVERLAP_MS)),
    // A day ahead: PubMed's dates are US Eastern, which can be a day behind UTC's.
    maxdate: formatDay(new Date(now.getTime() + 86_400_000)),
  };
}

function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '/');
}

function readStage(stage: Record<string, unknown> | null): SyncStage {
  const done = Array.isArray(stage?.done) ? stage.done.filter((name): name is string => typeof name === 'string') : [];
  const current = stage?.current as SyncStage['current'] | undefined;
  return current === undefined || current === null ? { done } : { done, current };
}

async function writeStage(context: JobContext, runId: number, stage: SyncStage): Promise<void> {
  await context.database.db
    .updateTable('etl_run')
    .set({ stage: JSON.stringify(stage), checkpoint: null, heartbeat_at: sql`now()` })
    .where('id', '=', runId)
    .execute();
}
