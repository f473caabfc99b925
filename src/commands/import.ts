/**
 * `pubcat import PATH... [--force] [--json]`: loads NCBI's bulk files (baseline and update files,
 * `.xml` or `.xml.gz`, a directory meaning every such file in it) from local paths.
 *
 * What other code calls:
 * - `importFiles(context, paths, options)`: lists the paths in NCBI's file order and imports each
 *   file in one run; returns the summary (DESIGN's run summary plus `files`, `files_skipped`,
 *   `files_refused`).
 * - `ImportRun.start(context, { force, run? })`, then `importRun.importFile(path)` for one file at
 *   a time (a download loop calls it as each file arrives; the file's `.md5` sidecar, when present
 *   beside it, is checked), then `importRun.finish()`; `importSummary(importRun, finished)` gives
 *   the summary object.
 * - `runImportCommand(paths, options, config, logger)`: the command line's action.
 *
 * Exit codes: 0 when every file is imported (or was already); 2 (EXIT_PARTIAL) when the run
 * finished but a file was refused (md5 mismatch, truncated gzip, XML that does not parse: one
 * line each on stderr, naming the file) or a PMID failed; 1 when it could not run at all (no
 * such path, database unreachable); 128 + signal when stopped by a signal (run it again to resume).
 */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { JobContext } from '../../jobs/context.js';
import type { Config } from '../config.js';
import { EXIT_PARTIAL, exitCodeForSignal, exitWith } from '../exit-codes.js';
import { InputError } from '../errors.js';
import { listImportPaths } from '../extract/import-file.js';
import { finishRun, RunTakenOverError, type FinishedRun, type RunHandle } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { ImportRun, type FileOutcome } from '../pipeline/file-import.js';
import { describeFailure, onFatal } from '../process-guard.js';
import { summaryLine, summaryObject, withRunResources, type RunSummary } from './run-support.js';

export { ImportRun, type FileOutcome } from '../pipeline/file-import.js';
export { fileOrder, listImportPaths } from '../extract/import-file.js';

/** How often an importer looks again at the files another importer holds. */
const BUSY_POLL_MS = 2_000;

export interface ImportOptions {
  force: boolean;
  json: boolean;
  /** A run already started (several importers in one process need one each); by default one is started. */
  run?: RunHandle;
}

/** DESIGN's run summary, plus the files: imported now, skipped (done before, or another importer's), refused. */
export interface ImportSummary extends RunSummary {
  files: number;
  files_skipped: number;
  files_refused: number;
}

export function importSummary(importRun: ImportRun, finished: FinishedRun): ImportSummary {
  return {
    ...summaryObject(importRun.run.id, finished),
    files: importRun.files.imported,
    files_skipped: importRun.files.skipped,
    files_refused: importRun.files.refused,
  };
}

/** Imports every file the paths name, in NCBI's order, in one run (see the module comment). */
export async function importFiles(context: JobContext, paths: string[], options: ImportOptions): Promise<ImportSummary> {
  const { importRun } = await importAll(context, await listPaths(paths), options);
  const finished = await finishImport(context, importRun);
  return importSummary(importRun, finished);
}

export async function runImportCommand(paths: string[], options: ImportOptions, config: Config, logger: Logger): Promise<void> {
  const files = await listPaths(paths);
  await runImportAsCommand(config, logger, {
    json: options.json,
    start: async (context) => ImportRun.start(context, { force: options.force, expected: { files: files.length, bytes: await totalSize(files) } }),
    importFiles: async (context, importRun) => (await importAll(context, files, options, importRun)).outcomes,
    afterPartial: () => 'run the same command again once the files are fixed',
  });
}

/** What differs between an import of local files and one of downloaded files; the run around them is the same. */
export interface ImportCommandPlan {
  json: boolean;
  start(context: JobContext): Promise<ImportRun>;
  importFiles(context: JobContext, importRun: ImportRun): Promise<FileOutcome[]>;
  /** The advice after "import run N is partial: <why>; ". */
  afterPartial(importRun: ImportRun): string;
}

/**
 * Runs an import as a command: the summary line (and JSON), one line per refused file, the run
 * closed `failed` on any error or signal, and the exit code (module comment).
 */
export async function runImportAsCommand(config: Config, logger: Logger, plan: ImportCommandPlan): Promise<void> {
  const startedAt = Date.now();
  await withRunResources(config, logger, async ({ context, signals }) => {
    const { db } = context.database;
    const importRun = await plan.start(context);
    const forgetFatal = onFatal((reason) => finishRun(db, importRun.run, 'failed', reason));
    let outcomes: FileOutcome[];
    try {
      outcomes = await plan.importFiles(context, importRun);
    } catch (error) {
      await finishRun(db, importRun.run, 'failed', describeFailure(error)).catch(() => undefined);
      throw error;
    } finally {
      forgetFatal();
      context.progress?.finish();
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const interrupted = signals.received();
    if (interrupted !== undefined) {
      const stopped = await finishRun(db, importRun.run, 'failed', `interrupted by ${interrupted}; run the same command again to resume`);
      if (stopped !== null) printImportSummary(importSummary(importRun, stopped), seconds, plan.json, ' (interrupted)');
      process.stderr.write(`pubcat: import run ${importRun.run.id} stopped by ${interrupted}; run the same command again to resume where it stopped\n`);
      exitWith(exitCodeForSignal(interrupted));
      return;
    }
    const finished = await finishImport(context, importRun);
    printImportSummary(importSummary(importRun, finished), seconds, plan.json, '');
    for (const outcome of outcomes) if (outcome.status === 'refused') process.stderr.write(`pubcat: refused ${outcome.reason}\n`);
    if (finished.status === 'partial') {
      process.stderr.write(`pubcat: import run ${importRun.run.id} is partial: ${finished.error}; ${plan.afterPartial(importRun)}\n`);
      exitWith(EXIT_PARTIAL);
    }
  });
}

async function listPaths(paths: string[]): Promise<string[]> {
  if (paths.length === 0) throw new InputError('nothing to import: give NCBI bulk files (.xml, .xml.gz) or directories of them', { input: paths });
  const files = await listImportPaths(paths);
  if (files.length === 0) throw new InputError(`no .xml or .xml.gz files in ${paths.join(', ')}`, { input: paths });
  return files;
}

async function importAll(
  context: JobContext,
  files: string[],
  options: ImportOptions,
  given?: ImportRun,
): Promise<{ importRun: ImportRun; outcomes: FileOutcome[] }> {
  const importRun = given ?? (await ImportRun.start(context, { force: options.force, ...(options.run === undefined ? {} : { run: options.run }) }));
  const outcomes = new Map<string, FileOutcome>();
  const stopped = (): boolean => context.signal?.aborted === true;
  for (const file of files) {
    if (stopped()) break;
    outcomes.set(file, await importRun.importFile(file));
  }
  // Files another importer holds: wait for it to finish them, or take them over if it dies.
  for (;;) {
    const busy = [...outcomes].filter(([, outcome]) => outcome.status === 'busy').map(([file]) => file);
    if (busy.length === 0 || stopped()) break;
    await delay(BUSY_POLL_MS, undefined, context.signal === undefined ? {} : { signal: context.signal }).catch(() => undefined);
    for (const file of busy) if (!stopped()) outcomes.set(file, await importRun.importFile(file));
  }
  return { importRun, outcomes: [...outcomes.values()] };
}

async function finishImport(context: JobContext, importRun: ImportRun): Promise<FinishedRun> {
  const finished = await importRun.finish();
  if (finished === null) {
    throw new RunTakenOverError(`run ${importRun.run.id} was taken over by another process before it finished here`, { input: importRun.run.id });
  }
  context.logger.debug({ runId: importRun.run.id, status: finished.status }, 'import run finished');
  return finished;
}

/** The summary line (files included), and with --json the summary object on stdout. */
export function printImportSummary(summary: ImportSummary, seconds: number, json: boolean, note: string): void {
  const files = `; files: ${summary.files} imported, ${summary.files_skipped} skipped, ${summary.files_refused} refused`;
  const line = `${summaryLine('import', summary, seconds, note)}${files}\n`;
  if (json) {
    process.stderr.write(line);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(line);
  }
}

async function totalSize(files: string[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await stat(file).catch(() => ({ size: 0 }))).size;
  return bytes;
}
