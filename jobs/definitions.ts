/** The jobs `pubcat schedule` runs, each on its cron expression from the configuration. */
import type { FilesConfig } from '../src/commands/import-remote.js';
import type { Config } from '../src/config.js';
import type { RunCounters } from '../src/load/runs.js';
import type { ClaimedRun, ScheduledJobName } from '../src/load/run-claims.js';
import type { JobContext } from './context.js';
import { DEFAULT_REFRESH_AGE_MS, REFRESH_INPUT_KEY, refreshCatalogue } from './refresh.js';
import { SYNC_INPUT_KEY, syncSavedSearches } from './sync.js';
import { importUpdates, UPDATES_INPUT_KEY } from './updates.js';

export interface JobDefinition {
  name: ScheduledJobName;
  /** node-cron expression (seconds allowed). */
  cron: string;
  /** Shared with the job's manual command, so the two never overlap and can take each other over. */
  inputKey: string;
  params: Record<string, unknown>;
  /**
   * Whether a new run continues a released one from its checkpoint. A refresh has no use for it:
   * the stalest records are exactly the ones the released run did not reach.
   */
  resumesReleased: boolean;
  run(run: ClaimedRun, context: JobContext): Promise<RunCounters>;
}

export function scheduledJobs(config: Pick<Config, 'cronRefresh' | 'cronSync' | 'cronUpdates'> & FilesConfig): JobDefinition[] {
  const jobs: JobDefinition[] = [];
  if (config.cronRefresh !== null) {
    jobs.push({
      name: 'refresh',
      cron: config.cronRefresh,
      inputKey: REFRESH_INPUT_KEY,
      params: { olderThan: '7d', limit: null },
      resumesReleased: false,
      run: (run, context) => refreshCatalogue(run, { olderThanMs: DEFAULT_REFRESH_AGE_MS }, context),
    });
  }
  if (config.cronSync !== null) {
    jobs.push({ name: 'sync', cron: config.cronSync, inputKey: SYNC_INPUT_KEY, params: {}, resumesReleased: true, run: syncSavedSearches });
  }
  if (config.cronUpdates !== null) {
    jobs.push({
      name: 'import',
      cron: config.cronUpdates,
      inputKey: UPDATES_INPUT_KEY,
      params: { remote: 'updates' },
      // Each file resumes from its own checkpoint; the run's would add nothing.
      resumesReleased: false,
      run: (run, context) => importUpdates(run, context, config),
    });
  }
  return jobs;
}
