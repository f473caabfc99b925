/** `pubcat refresh [--older-than 7d] [--limit N] [--include-deleted] [--json]`: re-fetch the records checked longest ago. */
import { claimManualRun } from '../load/run-claims.js';
import { DEFAULT_REFRESH_AGE_MS, parseAge, REFRESH_INPUT_KEY, refreshCatalogue } from '../../jobs/refresh.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { completeRun, withRunResources } from './run-support.js';

/**
 * Older than any check a catalogue can hold; a far larger age puts the cut-off before the earliest
 * timestamp PostgreSQL stores (4713 BC), or past what a JavaScript Date holds.
 */
const MAX_AGE_DAYS = 36_500;
const DAY_MS = 86_400_000;

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
  if (olderThanMs > MAX_AGE_DAYS * DAY_MS) {
    throw new InputError(`--older-than "${options.olderThan}" is out of range: at most ${MAX_AGE_DAYS}d (100 years)`, {
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
