/** `pubcat refresh [--older-than 7d] [--limit N] [--json]`: re-fetch the records checked longest ago. */
import { DEFAULT_REFRESH_AGE_MS, parseAge, refreshCatalogue } from '../../jobs/refresh.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { startOrResumeRun } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { completeRun, withRunResources } from './run-support.js';

export interface RefreshCommandOptions {
  olderThan?: string;
  limit?: number;
  json?: boolean;
}

/** One key for every refresh: a refresh that died is taken over by the next, whatever its options. */
export const REFRESH_INPUT_KEY = 'refresh';

export async function runRefreshCommand(options: RefreshCommandOptions, config: Config, logger: Logger): Promise<void> {
  const olderThanMs = options.olderThan === undefined ? DEFAULT_REFRESH_AGE_MS : parseAge(options.olderThan);
  if (olderThanMs === undefined) {
    throw new InputError(`--older-than "${options.olderThan}" is not an age: use a number with s, m, h, d or w (7d, 12h)`, {
      input: options.olderThan,
    });
  }
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    const run = await startOrResumeRun(resources.context.database.db, {
      job: 'refresh',
      inputKey: REFRESH_INPUT_KEY,
      params: { olderThan: options.olderThan ?? '7d', limit: options.limit ?? null },
    });
    if (run === null) throw new InputError('a refresh is already running (by the scheduler or another process)', { input: options });
    const refreshOptions = { olderThanMs, ...(options.limit === undefined ? {} : { limit: options.limit }) };
    await completeRun(resources, run, { job: 'refresh', startedAt, json: options.json === true }, () =>
      refreshCatalogue(run, refreshOptions, resources.context),
    );
  });
}
