/** `pubcat refresh [--older-than 7d] [--limit N] [--include-deleted] [--json]`: re-fetch the records checked longest ago. */
import { claimManualRun } from '../../jobs/claims.js';
import { DEFAULT_REFRESH_AGE_MS, parseAge, REFRESH_INPUT_KEY, refreshCatalogue } from '../../jobs/refresh.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { completeRun, withRunResources } from './run-support.js';

export interface RefreshCommandOptions {
  olderThan?: string;
  limit?: number;
  includeDeleted?: boolean;
  json?: boolean;
}

export async function runRefreshCommand(options: RefreshCommandOptions, config: Config, logger: Logger): Promise<void> {
  const olderThanMs = options.olderThan === undefined ? DEFAULT_REFRESH_AGE_MS : parseAge(options.olderThan);
  if (olderThanMs === undefined) {
    throw new InputError(`--older-than "${options.olderThan}" is not an age: use a number with s, m, h, d or w (7d, 12h)`, {
      input: options.olderThan,
    });
  }
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    // Like the scheduled refresh, a new run starts afresh: the stalest records are the ones an
    // interrupted run did not reach.
    const includeDeleted = options.includeDeleted === true;
    const params = { olderThan: options.olderThan ?? '7d', limit: options.limit ?? null, includeDeleted };
    const run = await claimManualRun(
      resources.context.database.db,
      { job: 'refresh', inputKey: REFRESH_INPUT_KEY, params, resumeReleased: false },
      logger,
    );
    const refreshOptions = { olderThanMs, includeDeleted, ...(options.limit === undefined ? {} : { limit: options.limit }) };
    await completeRun(resources, run, { job: 'refresh', startedAt, json: options.json === true }, () =>
      refreshCatalogue(run, refreshOptions, resources.context),
    );
  });
}
