/** Running the sync job in this process, the way `pubcat sync` and the scheduler run it. */
import { claimRun } from '../../src/load/run-claims.js';
import { finishRun } from '../../src/load/runs.js';
import type { JobContext } from '../../jobs/context.js';
import { SYNC_INPUT_KEY, syncSavedSearches } from '../../jobs/sync.js';
import type { RunCounters } from '../../src/load/runs.js';
import type { TestDatabase } from '../support/databases.js';

export async function syncOnce(context: JobContext): Promise<RunCounters & { runId: number; resumedFrom: number | null }> {
  const claim = await claimRun(context.database.db, {
    job: 'sync',
    inputKey: SYNC_INPUT_KEY,
    scheduledFor: null,
    params: {},
    resumeReleased: true,
  });
  if (claim === null) throw new Error('a sync run is already running');
  await syncSavedSearches(claim.run, context);
  const counters = await finishRun(context.database.db, claim.run, 'finished');
  if (counters === null) throw new Error(`sync run ${claim.run.id} was taken over`);
  return { ...counters, runId: claim.run.id, resumedFrom: claim.resumedFrom };
}

/** `YYYY/MM/DD` of a time, in UTC, as esearch windows are written. */
export function day(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '/');
}

/** Deletes every row pubcat wrote, children first. */
export async function emptyTables(database: TestDatabase): Promise<void> {
  for (const table of ['catalogue_record_version', 'record_facet', 'record_source', 'missing_pmid', 'catalogue_record', 'saved_search', 'etl_run'] as const) {
    await database.db.deleteFrom(table).execute();
  }
}
