/**
 * `pubcat sync [--json]`: runs every saved search for records added or modified since its last
 * sync, as the scheduled sync does. It never runs beside another sync (scheduled or manual), and
 * continues one that was interrupted, from its checkpoint.
 */
import { claimManualRun } from '../load/run-claims.js';
import { SYNC_INPUT_KEY, syncSavedSearches } from '../../jobs/sync.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { completeRun, withRunResources } from './run-support.js';

export async function runSyncCommand(options: { json?: boolean }, config: Config, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    const run = await claimManualRun(
      resources.context.database.db,
      { job: 'sync', inputKey: SYNC_INPUT_KEY, params: {}, resumeReleased: true },
      logger,
    );
    await completeRun(resources, run, { job: 'sync', startedAt, json: options.json === true }, () => syncSavedSearches(run, resources.context));
  });
}
