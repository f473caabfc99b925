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
import { BulkFilesClient } from '../extract/bulk-files-client.js';
import type { BulkCollection } from '../extract/bulk-files-listing.js';
import { importRemoteFiles, type RemoteImportResult } from '../extract/bulk-files-remote.js';
import type { Logger } from '../logger.js';
import { ImportRun, type FileOutcome } from '../pipeline/file-import.js';
import { runImportAsCommand } from './import.js';

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
  await runImportAsCommand(config, logger, {
    json: options.json,
    start: (context) => ImportRun.start(context, { force: options.force }),
    importFiles: async (context, importRun) => (await importRemote(context, config, importRun, options)).outcomes,
    afterPartial: (importRun) =>
      `${importRun.refusals.length === 0 ? '' : `the refused files stay in ${downloadDirectory(config)}; `}run the same command again to retry`,
  });
}
