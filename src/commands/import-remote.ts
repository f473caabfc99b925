/**
 * `pubcat import --remote baseline|updates [--force] [--keep-downloads] [--json]`: NCBI's bulk
 * files straight from PUBCAT_FILES_BASE_URL. The files import_file does not hold as done are
 * downloaded (with their .md5, into PUBCAT_DATA_DIR/downloads, a local directory whatever the
 * database) and imported as each arrives, in NCBI's order, the next one downloading meanwhile;
 * each is removed once imported unless `--keep-downloads`. The same run, summary and exit codes
 * as an import of local files; a download given up ends the run `failed` with one line naming
 * the URL, and running the command again carries on with the files not imported yet.
 */
import { join } from 'node:path';
import type { JobContext } from '../../jobs/context.js';
import type { Config } from '../config.js';
import { EXIT_PARTIAL, exitCodeForSignal, exitWith } from '../exit-codes.js';
import { BulkFilesClient } from '../extract/bulk-files-client.js';
import type { BulkCollection } from '../extract/bulk-files-listing.js';
import { importRemoteFiles, type RemoteImportResult } from '../extract/bulk-files-remote.js';
import { finishRun, RunTakenOverError } from '../load/runs.js';
import type { Logger } from '../logger.js';
import { ImportRun, type FileOutcome } from '../pipeline/file-import.js';
import { describeFailure, onFatal } from '../process-guard.js';
import { importSummary, printImportSummary } from './import.js';
import { withRunResources } from './run-support.js';

export interface RemoteImportOptions {
  collection: BulkCollection;
  force: boolean;
  keepDownloads: boolean;
}

export type FilesConfig = Pick<Config, 'filesBaseUrl' | 'dataDir' | 'ncbiAttempts' | 'ncbiTimeoutSeconds' | 'ncbiTool'>;

/** Where `import --remote` downloads to: a local directory, with PostgreSQL as with PGlite. */
export function downloadDirectory(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'downloads');
}

/**
 * Downloads and imports the collection's files not imported yet into `importRun` (see the module
 * comment). Returns what the listing held and each file's outcome; the run is left open.
 */
export async function importRemote(
  context: JobContext,
  config: FilesConfig,
  importRun: ImportRun,
  options: RemoteImportOptions,
): Promise<{ result: RemoteImportResult; outcomes: FileOutcome[] }> {
  const { database, logger } = context;
  const client = new BulkFilesClient({
    baseUrl: config.filesBaseUrl,
    attempts: config.ncbiAttempts,
    timeoutMs: config.ncbiTimeoutSeconds * 1000,
    userAgent: config.ncbiTool,
    logger,
  });
  const outcomes: FileOutcome[] = [];
  try {
    const result = await importRemoteFiles({
      client,
      collection: options.collection,
      directory: downloadDirectory(config),
      keepDownloads: options.keepDownloads,
      imported: async (names) => {
        if (options.force || names.length === 0) return new Set();
        const done = await database.db.selectFrom('import_file').select('name').where('status', '=', 'done').where('name', 'in', names).execute();
        return new Set(done.map((row) => row.name));
      },
      importFile: async (file) => {
        const outcome = await importRun.importFile(file.path);
        outcomes.push(outcome);
        // A refused file stays for a look; an interrupted one for the next run to resume.
        return outcome.status !== 'refused' && outcome.status !== 'interrupted';
      },
      ...(context.signal === undefined ? {} : { signal: context.signal }),
      logger,
    });
    return { result, outcomes };
  } finally {
    await client.close();
  }
}

export async function runRemoteImportCommand(options: RemoteImportOptions & { json: boolean }, config: Config, logger: Logger): Promise<void> {
  const startedAt = Date.now();
  await withRunResources(config, logger, async ({ context, signals }) => {
    const importRun = await ImportRun.start(context, { force: options.force });
    const { db } = context.database;
    const forgetFatal = onFatal((reason) => finishRun(db, importRun.run, 'failed', reason));
    let outcomes: FileOutcome[];
    try {
      outcomes = (await importRemote(context, config, importRun, options)).outcomes;
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
      if (stopped !== null) printImportSummary(importSummary(importRun, stopped), seconds, options.json, ' (interrupted)');
      process.stderr.write(`pubcat: import run ${importRun.run.id} stopped by ${interrupted}; run the same command again to resume\n`);
      exitWith(exitCodeForSignal(interrupted));
      return;
    }
    const finished = await importRun.finish();
    if (finished === null) throw new RunTakenOverError(`run ${importRun.run.id} was taken over by another process before it finished here`, { input: importRun.run.id });
    printImportSummary(importSummary(importRun, finished), seconds, options.json, '');
    for (const outcome of outcomes) if (outcome.status === 'refused') process.stderr.write(`pubcat: refused ${outcome.reason}\n`);
    if (finished.status === 'partial') {
      const kept = importRun.refusals.length === 0 ? '' : `; the refused files stay in ${downloadDirectory(config)}`;
      process.stderr.write(`pubcat: import run ${importRun.run.id} is partial: ${finished.error}${kept}; run the same command again to retry\n`);
      exitWith(EXIT_PARTIAL);
    }
  });
}
