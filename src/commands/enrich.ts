/**
 * `pubcat enrich [--limit N] [--json]`: fetches the PMC front matter and summary of active records
 * that have a PMC id and none stored (after a bulk-file import, or a `--no-pmc` backfill), and
 * rebuilds them with their stored PubMed XML, so they get `publisher`, `topic` and the licence as
 * a backfill would have given them. The PMC calls share NCBI's start budget with every other run.
 * Killed, the same command resumes after its last loaded batch.
 */
import type { JobContext } from '../../jobs/context.js';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { startOrResumeRun, type RunCounters, type RunHandle } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { loadBatches } from '../pipeline.js';
import { countLackingPmc, enrichBatches, enrichCheckpoint } from '../pipeline/enrich-source.js';
import { completeRun, withRunResources } from './run-support.js';

export interface EnrichOptions {
  limit?: number;
  json?: boolean;
}

/** One key for every enrich: an interrupted one is resumed by the next, whatever its limit. */
export const ENRICH_INPUT_KEY = 'enrich';

export async function runEnrichCommand(options: EnrichOptions, config: Config, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    const { context } = resources;
    const run = await startOrResumeRun(context.database.db, { job: 'enrich', inputKey: ENRICH_INPUT_KEY, params: { limit: options.limit ?? null } });
    if (run === null) throw new InputError('another pubcat enrich is running; wait for it or stop it first', { input: options });
    await completeRun(resources, run, { job: 'enrich', startedAt, json: options.json === true }, () =>
      enrichRecords(run, context, options.limit === undefined ? {} : { limit: options.limit }),
    );
  });
}

/** Enriches the records lacking PMC parts, from where `run` stands, at most `limit` of them. */
export async function enrichRecords(run: RunHandle, context: JobContext, options: { limit?: number }): Promise<RunCounters> {
  const { afterPmid, done } = enrichCheckpoint(run.checkpoint);
  const lacking = await countLackingPmc(context.database, afterPmid);
  const total = done + Math.min(lacking, options.limit ?? lacking);
  context.logger.info({ runId: run.id, records: lacking, limit: options.limit }, 'fetching PMC parts for records that have a PMC id and none stored');
  const source = enrichBatches(context.database, {
    client: context.client,
    logger: context.logger,
    batchSize: context.settings.batchSize,
    checkpoint: run.checkpoint,
    ...(options.limit === undefined ? {} : { limit: options.limit }),
    ...(context.signal === undefined ? {} : { signal: context.signal }),
    ...(context.cancel === undefined ? {} : { cancel: context.cancel }),
  });
  // Nothing is checked against PubMed: a record PMC adds nothing to keeps its check time.
  return loadBatches(run, source, context, { ...context.settings, total, checked: false });
}
