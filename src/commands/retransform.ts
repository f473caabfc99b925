/**
 * `pubcat retransform [PMID...] [--all | --outdated] [--json]`: rebuilds records from the XML
 * stored with them, asking NCBI nothing, after the mapping changed. A record the rebuild leaves
 * as it was writes nothing; a changed one gets a new version. Started again after a kill, the
 * same command resumes after its last loaded batch.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { startOrResumeRun } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { loadBatches } from '../pipeline.js';
import { parsePmid } from '../pipeline/pmid-input.js';
import { countStored, storedBatches, storedCheckpoint, type StoredSelection } from '../pipeline/stored-source.js';
import { TRANSFORM_VERSION } from '../transform/index.js';
import { completeRun, transformWorkerCount, withRunResources } from './run-support.js';

export interface RetransformOptions {
  all?: boolean;
  outdated?: boolean;
  json?: boolean;
}

export async function runRetransformCommand(args: string[], options: RetransformOptions, config: Config, logger: Logger): Promise<void> {
  const selection = selectionOf(args, options);
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    const { context } = resources;
    const run = await startOrResumeRun(context.database.db, { job: 'retransform', inputKey: inputKey(selection), params: { ...describe(selection), transformVersion: TRANSFORM_VERSION } });
    if (run === null) {
      throw new InputError('another pubcat process is running this same retransform; wait for it or stop it first', { input: args });
    }
    const total = storedCheckpoint(run.checkpoint).done + (await countStored(context.database, selection, storedCheckpoint(run.checkpoint).afterPmid));
    logger.info({ runId: run.id, records: total, transformVersion: TRANSFORM_VERSION }, 'rebuilding records from their stored XML');
    const source = storedBatches(context.database, {
      selection,
      batchSize: config.batchSize,
      checkpoint: run.checkpoint,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
    });
    const settings = { batchSize: config.batchSize, batchesInFlight: 2 * transformWorkerCount() + 2, total, checked: false };
    await completeRun(resources, run, { job: 'retransform', startedAt, json: options.json === true }, () => loadBatches(run, source, context, settings));
  });
}

function selectionOf(args: string[], options: RetransformOptions): StoredSelection {
  const kinds = [args.length > 0, options.all === true, options.outdated === true].filter(Boolean).length;
  if (kinds !== 1) {
    throw new InputError('retransform needs exactly one of: PMIDs, --all, or --outdated (records built by an older transform)', { input: args });
  }
  if (options.all === true) return { all: true };
  if (options.outdated === true) return { builtBefore: TRANSFORM_VERSION };
  const pmids = args.flatMap((arg) => arg.split(/[\s,]+/).filter((text) => text !== ''));
  return {
    pmids: pmids.map((text) => {
      const pmid = parsePmid(text);
      if (typeof pmid !== 'number') throw new InputError(`"${text}" is not a PMID: ${pmid.reason}`, { input: text });
      return pmid;
    }),
  };
}

function describe(selection: StoredSelection): Record<string, unknown> {
  if ('pmids' in selection) return { pmids: selection.pmids.length };
  return 'all' in selection ? { all: true } : { outdated: true };
}

/** The same selection under the same transform resumes; after an upgrade it is new work. */
function inputKey(selection: StoredSelection): string {
  const key = 'pmids' in selection ? { pmids: [...new Set(selection.pmids)].sort((a, b) => a - b) } : selection;
  return createHash('sha256').update(JSON.stringify({ ...key, transformVersion: TRANSFORM_VERSION })).digest('hex');
}
