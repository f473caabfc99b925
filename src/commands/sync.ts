/**
 * `pubcat sync [--json]`: runs every saved search for records added or modified since its last
 * sync, as the scheduled sync does. It never runs beside another sync (scheduled or manual), and
 * continues one that was interrupted, from its checkpoint.
 */
import { claimRun, describeHolder, takeOverStaleRun } from '../../jobs/claims.js';
import { SYNC_INPUT_KEY, syncSavedSearches } from '../../jobs/sync.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { STALE_HEARTBEAT_SECONDS } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { completeRun, withRunResources } from './run-support.js';

export async function runSyncCommand(options: { json?: boolean }, config: Config, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    const { db } = resources.context.database;
    const taken = await takeOverStaleRun(db, 'sync', STALE_HEARTBEAT_SECONDS);
    if (taken !== null) logger.warn({ runId: taken.run.id, from: taken.from }, `taking over sync run ${taken.run.id} from ${taken.from}, which stopped`);
    const run =
      taken?.run ??
      (await claimRun(db, { job: 'sync', inputKey: SYNC_INPUT_KEY, scheduledFor: null, params: {}, resumeReleased: true }))?.run;
    if (run === undefined) {
      const holder = await describeHolder(db, 'sync', null);
      throw new InputError(`a sync is already running (run ${holder?.runId ?? '?'} on ${holder?.replica ?? '?'}); wait for it to finish`, {
        input: holder,
      });
    }
    await completeRun(resources, run, { job: 'sync', startedAt, json: options.json === true }, () => syncSavedSearches(run, resources.context));
  });
}
