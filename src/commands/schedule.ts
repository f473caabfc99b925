/**
 * `pubcat schedule`: the long-running scheduler. Runs until SIGTERM or SIGINT, then stops
 * claiming, lets the running jobs checkpoint and release their runs (giving up the batches NCBI
 * still holds after the grace), and exits 0 well inside the 30 s a container orchestrator waits
 * before SIGKILL. The database closes only once the scheduler stopped every heartbeat. A second
 * signal exits at once.
 */
import { scheduledJobs } from '../../jobs/definitions.js';
import { startScheduler } from '../../jobs/scheduler.js';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { withRunResources } from './run-support.js';

export interface ScheduleOptions {
  /** Heartbeat age after which another replica takes a run over (tests shorten it). */
  staleSeconds?: number;
}

export async function runScheduleCommand(options: ScheduleOptions, config: Config, logger: Logger): Promise<void> {
  const jobs = scheduledJobs(config);
  if (jobs.length === 0) {
    throw new ConfigError('nothing to schedule: PUBCAT_CRON_REFRESH, PUBCAT_CRON_SYNC and PUBCAT_CRON_UPDATES are all off', {
      input: { PUBCAT_CRON_REFRESH: 'off', PUBCAT_CRON_SYNC: 'off' },
    });
  }
  await withRunResources(config, logger, async ({ context, signals }) => {
    const scheduler = startScheduler({ jobs, context, ...(options.staleSeconds === undefined ? {} : { staleSeconds: options.staleSeconds }) });
    await new Promise<void>((resolve) => signals.signal.addEventListener('abort', () => resolve(), { once: true }));
    await scheduler.stop();
  });
}
