/**
 * `pubcat backfill [PMID...] [--file F|-] [--query Q] [--batch-size N] [--no-pmc] [--json]`:
 * loads the given PMIDs. Started again with the same input after a kill or a failure, it resumes
 * the interrupted run after its last loaded batch.
 */
import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { searchPubmed } from '../extract/esearch.js';
import { dropFinishedSnapshots, frozenHitCount, frozenQueryHits } from '../load/query-snapshot.js';
import { startOrResumeRun } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { batchesInFlightFor, runPipeline } from '../pipeline.js';
import { countFileItems, readPmidInput } from '../pipeline/pmid-input.js';
import { countPmidCandidates } from '../pipeline/pmid-tokens.js';
import { completeRun, withRunResources } from './run-support.js';

export interface BackfillOptions {
  file?: string;
  query?: string;
  batchSize?: number;
  pmc: boolean;
  json?: boolean;
}

export async function runBackfillCommand(pmids: string[], options: BackfillOptions, config: Config, logger: Logger): Promise<void> {
  if (pmids.length === 0 && options.file === undefined && options.query === undefined) {
    throw new InputError('nothing to backfill: give PMIDs, --file FILE (- for stdin) or --query QUERY', { input: pmids });
  }
  if (options.query !== undefined && options.query.trim() === '') {
    throw new InputError('--query is empty: give a PubMed query, as typed in PubMed', { input: options.query });
  }
  const batchSize = options.batchSize ?? config.batchSize;
  const fileFacts = options.file === undefined || options.file === '-' ? undefined : await describeFile(options.file);
  const startedAt = Date.now();
  await withRunResources(config, logger, async (resources) => {
    const { context } = resources;
    const run = await startOrResumeRun(context.database.db, {
      job: 'backfill',
      inputKey: inputKey(pmids, options, fileFacts),
      params: { pmids: pmids.length, file: options.file ?? null, query: options.query ?? null, batchSize, pmc: options.pmc },
    });
    if (run === null) {
      throw new InputError('another pubcat process is running a backfill of this same input; wait for it or stop it first', {
        input: options,
      });
    }
    const { query } = options;
    // The query's hits are frozen with the run, so that a resumed run's checkpoint counts in the same list.
    const input = readPmidInput({
      args: pmids,
      ...(options.file === undefined ? {} : { file: options.file }),
      ...(query === undefined ? {} : { query: frozenQueryHits(context.database, run, () => searchPubmed(context.client, query, { signal: context.cancel })) }),
    });
    // A fresh query run learns its hit count as esearch pages arrive; a resumed one has its list stored.
    const queryHits = query === undefined ? 0 : await frozenHitCount(context.database.db, run.id);
    const knownTotal = queryHits !== undefined && options.file !== '-';
    const settings = { ...context.settings, batchSize, pmc: options.pmc, batchesInFlight: batchesInFlightFor(config.maxRps, batchSize) };
    await completeRun(resources, run, { job: 'backfill', startedAt, json: options.json === true }, () =>
      runPipeline(run, input, context, knownTotal ? { ...settings, total: argumentItems(pmids) + (fileFacts?.items ?? 0) + queryHits } : settings),
    );
    if (query !== undefined) {
      await dropFinishedSnapshots(context.database.db).catch((error: unknown) =>
        logger.warn({ err: error }, 'could not drop the query list of a finished run; the next query run drops it'),
      );
    }
  });
}

/** PMIDs and refused items in the arguments (one argument may hold a pasted list), for the progress bar's total. */
function argumentItems(args: string[]): number {
  return args.reduce((sum, arg) => sum + arg.split(/\r?\n/).reduce((lines, line) => lines + countPmidCandidates(line), 0), 0);
}

interface FileFacts {
  path: string;
  size: number;
  modifiedMs: number;
  /** PMIDs and refused items in the file, for the progress bar's total. */
  items: number;
}

async function describeFile(file: string): Promise<FileFacts> {
  const path = resolve(file);
  let facts;
  try {
    facts = await stat(path);
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`, { input: file, cause: error });
  }
  if (!facts.isFile()) throw new InputError(`${file} is not a file`, { input: file });
  return { path, size: facts.size, modifiedMs: facts.mtimeMs, items: await countFileItems(path) };
}

/**
 * The same command on the same input gets the same key, and so resumes. A file counts as the
 * same while its size and modification time are; stdin never does (it cannot be read twice).
 */
function inputKey(pmids: string[], options: BackfillOptions, file: FileFacts | undefined): string {
  const input = {
    pmids,
    file: options.file === '-' ? `stdin:${randomUUID()}` : file === undefined ? null : { path: file.path, size: file.size, modifiedMs: file.modifiedMs },
    query: options.query ?? null,
    pmc: options.pmc,
  };
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}
