#!/usr/bin/env -S node --max-old-space-size=512
/**
 * The `pubcat` command. The heap cap in the first line keeps a long backfill's memory flat: left
 * to itself V8 lets the heap of an allocation-heavy process grow for gigabytes before collecting.
 * The data a run holds at once is bounded by the records in flight (see pipeline.ts).
 * Each subcommand reads the validated configuration once and does its work; how the process ends,
 * and with which code, is decided in one place (process-guard.ts, exit-codes.ts).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageVersion, useOneLineErrors } from './cli-output.js';
import type { BackfillOptions } from './commands/backfill.js';
import type { EnrichOptions } from './commands/enrich.js';
import type { ExportCommandOptions } from './commands/export.js';
import type { RefreshCommandOptions } from './commands/refresh.js';
import type { RestoreCommandOptions } from './commands/restore.js';
import type { RetransformOptions } from './commands/retransform.js';
import type { ScheduleOptions } from './commands/schedule.js';
import type { SqlCommandOptions } from './commands/sql.js';
import type { Config } from './config.js';
import { InputError } from './errors.js';
import { EXPORT_FORMATS } from './export/formats.js';
import { BULK_COLLECTIONS, type BulkCollection } from './extract/bulk-files-listing.js';
import type { Logger } from './logger.js';
import { runGuarded } from './process-guard.js';

/** `pubcat sql`'s port when none is given: next to PostgreSQL's own 5432. */
const DEFAULT_SQL_PORT = 5433;

/**
 * Each command's module, and the configuration and logger, are loaded only when that command
 * runs: `pubcat --help` or a small scheduled sync does not pay for the whole module graph.
 */
async function withConfig(action: (config: Config, logger: Logger) => Promise<void>, options: { ncbi?: boolean } = {}): Promise<void> {
  const [{ loadConfig }, { createLogger }] = await Promise.all([import('./config.js'), import('./logger.js')]);
  const config = loadConfig();
  commandLogger = createLogger(config.logLevel, config.logFormat);
  // NCBI writes to that address about a client's traffic before it blocks the client.
  if (options.ncbi === true && config.ncbiEmail === undefined) {
    commandLogger.warn('NCBI_EMAIL is not set: NCBI asks E-utilities clients for a contact address (set NCBI_EMAIL=you@example.org)');
  }
  return action(config, commandLogger);
}

function positiveIntegerOption(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('Expected a whole number of at least 1.');
  return number;
}

function batchSizeOption(value: string): number {
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1 || size > 10_000) throw new InvalidArgumentError('Expected a whole number from 1 to 10000.');
  return size;
}

function portOption(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('Expected a port number from 0 to 65535.');
  return port;
}

export function buildProgram(): Command {
  const program = new Command('pubcat')
    .description('Keep a PostgreSQL catalogue of PubMed articles in sync with NCBI E-utilities.')
    .version(packageVersion(), '-V, --version', 'print the version');

  program
    .command('migrate')
    .description('create or upgrade the database schema (safe to run again)')
    .action(() => withConfig(async (config, logger) => (await import('./commands/migrate.js')).runMigrateCommand(config, logger)));

  program
    .command('backfill')
    .description('fetch, transform and load PMIDs; started again with the same input, resumes where it stopped')
    .argument('[pmids...]', 'PMIDs (123, PMID:123), separated by spaces or commas')
    .option('--file <file>', 'read PMIDs from a file, separated by newlines, commas, spaces or tabs (- for stdin)')
    .option('--query <query>', 'load every hit of a PubMed search (all of them, past 10,000)')
    .option('--batch-size <n>', 'PMIDs per efetch (default PUBCAT_BATCH_SIZE)', batchSizeOption)
    .option('--no-pmc', 'skip PMC enrichment (PubMed data only)')
    .option('--json', 'print the run summary as JSON on stdout')
    .action((pmids: string[], options: BackfillOptions) =>
      withConfig(async (config, logger) => (await import('./commands/backfill.js')).runBackfillCommand(pmids, options, config, logger), { ncbi: true }),
    );

  program
    .command('refresh')
    .description('re-fetch the records checked longest ago; tombstone PMIDs missing twice in a row')
    .option('--older-than <age>', 'only records last checked longer ago than this (30m, 12h, 7d, 2w)', '7d')
    .option('--limit <n>', 'at most this many records', positiveIntegerOption)
    .option('--include-deleted', 're-check tombstones too: one that NCBI serves again is restored')
    .option('--json', 'print the run summary as JSON on stdout')
    .action((options: RefreshCommandOptions) => withConfig(async (config, logger) => (await import('./commands/refresh.js')).runRefreshCommand(options, config, logger), { ncbi: true }));

  program
    .command('restore')
    .description('undo the tombstones a run wrote: each record it tombstoned is active again, unless it changed since')
    .requiredOption('--run <n>', 'the run whose tombstones to undo (pubcat status lists runs)', positiveIntegerOption)
    .option('--json', 'print the outcome as JSON on stdout')
    .action((options: RestoreCommandOptions) => withConfig(async (config, logger) => (await import('./commands/restore.js')).runRestoreCommand(options, config, logger)));

  program
    .command('retransform')
    .description('rebuild records from their stored XML after the mapping changed, asking NCBI nothing; resumes where it stopped')
    .argument('[pmids...]', 'PMIDs (123, PMID:123), separated by spaces or commas')
    .option('--all', 'every record in the catalogue')
    .option('--outdated', 'the records an older version of the transform built')
    .option('--json', 'print the run summary as JSON on stdout')
    .action((pmids: string[], options: RetransformOptions) => withConfig(async (config, logger) => (await import('./commands/retransform.js')).runRetransformCommand(pmids, options, config, logger)));

  program
    .command('enrich')
    .description('fetch the PMC parts of records that have a PMC id and none stored (after an import or a --no-pmc backfill); resumes where it stopped')
    .option('--limit <n>', 'at most this many records', positiveIntegerOption)
    .option('--json', 'print the run summary as JSON on stdout')
    .action((options: EnrichOptions) => withConfig(async (config, logger) => (await import('./commands/enrich.js')).runEnrichCommand(options, config, logger), { ncbi: true }));

  program
    .command('sync')
    .description('run the saved searches: load the records PubMed added or modified since each one last synced')
    .option('--json', 'print the run summary as JSON on stdout')
    .action((options: { json?: boolean }) => withConfig(async (config, logger) => (await import('./commands/sync.js')).runSyncCommand(options, config, logger), { ncbi: true }));

  const search = program.command('search').description('the saved searches that sync runs');
  search
    .command('add')
    .description('save a PubMed query under a name (letters, digits, . _ -)')
    .argument('<name>', 'short name for the command line')
    .argument('<query>', 'the PubMed query, as typed in PubMed')
    .action((name: string, query: string) => withConfig(async (config, logger) => (await import('./commands/search.js')).runSearchAddCommand(name, query, config, logger)));
  search
    .command('list')
    .description('the saved searches with their last sync')
    .option('--json', 'print JSON instead of a table')
    .action((options: { json?: boolean }) => withConfig(async (config, logger) => (await import('./commands/search.js')).runSearchListCommand(options, config, logger)));
  search
    .command('remove')
    .description('forget a saved search (its records stay)')
    .argument('<name>', 'the saved search')
    .action((name: string) => withConfig(async (config, logger) => (await import('./commands/search.js')).runSearchRemoveCommand(name, config, logger)));

  program
    .command('import')
    .description("load NCBI's bulk files (baseline and update .xml or .xml.gz files, or directories of them) in file order; resumes where it stopped")
    .argument('[paths...]', 'files, or directories whose .xml and .xml.gz files are all imported')
    .addOption(new Option('--remote <which>', "download NCBI's files not imported yet from PUBCAT_FILES_BASE_URL and import each as it arrives").choices(BULK_COLLECTIONS))
    .option('--keep-downloads', 'with --remote: keep each downloaded file (in PUBCAT_DATA_DIR/downloads) once imported')
    .option('--force', 'import again files that were imported already')
    .option('--json', 'print the run summary as JSON on stdout')
    .action((paths: string[], options: { remote?: BulkCollection; keepDownloads?: boolean; force?: boolean; json?: boolean }) =>
      withConfig(async (config, logger) => {
        const common = { force: options.force === true, json: options.json === true };
        if (options.remote === undefined) {
          if (options.keepDownloads === true) throw new InputError('--keep-downloads goes with --remote: local files are never removed', { input: paths });
          return (await import('./commands/import.js')).runImportCommand(paths, common, config, logger);
        }
        if (paths.length > 0) throw new InputError(`--remote ${options.remote} downloads its files: give no paths with it (got ${paths.join(' ')})`, { input: paths });
        return (await import('./commands/import-remote.js')).runRemoteImportCommand({ ...common, collection: options.remote, keepDownloads: options.keepDownloads === true }, config, logger);
      }),
    );

  program
    .command('export')
    .description('write the catalogue as Solr update commands for VuFind, JSON lines or CSV, or post it to Solr')
    .addOption(new Option('--format <format>', 'solr: VuFind biblio update commands; jsonl, csv: for pandas and DuckDB').choices(EXPORT_FORMATS).default('solr'))
    .addOption(new Option('--since <time>', 'only records changed at or after this ISO time (2026-01-31, 2026-01-31T08:00:00Z)').conflicts('target'))
    .option('--target <name>', 'remember where this export left off, under this name: run again, it writes only what changed since')
    .addOption(new Option('--out <file>', 'write to this file (- or none: stdout)').conflicts('post'))
    .option('--post <url>', 'send the Solr update commands to this core (http://localhost:8983/solr/biblio) in batches')
    .option('--batch-size <n>', 'records per page read, and per request to Solr (default 1000)', batchSizeOption)
    .action((options: ExportCommandOptions) => withConfig(async (config, logger) => (await import('./commands/export.js')).runExportCommand(options, config, logger)));

  program
    .command('schedule')
    .description('run refresh, sync and (with PUBCAT_CRON_UPDATES) the update import on their cron schedules until SIGTERM; safe to run as several replicas')
    // Internal: tests shorten the take-over interval; operators keep the default.
    .addOption(new Option('--stale-seconds <n>', 'heartbeat age after which a run is taken over').argParser(positiveIntegerOption).hideHelp())
    .action((options: ScheduleOptions) => withConfig(async (config, logger) => (await import('./commands/schedule.js')).runScheduleCommand(options, config, logger), { ncbi: true }));

  program
    .command('show')
    .description('the catalogue record of a PMID (field | value), or with --history its versions')
    .argument('<pmid>', 'the PMID')
    .option('--history', 'list every version: op, time, run and changed fields')
    .option('--json', 'print JSON (the record exactly as stored)')
    .action((pmid: string, options: { history?: boolean; json?: boolean }) =>
      withConfig(async (config, logger) => (await import('./commands/show.js')).runShowCommand(pmid, options, config, logger)),
    );

  program
    .command('status')
    .description('recent runs with their counters, records by status, missing PMIDs')
    .option('--json', 'print one JSON object instead of a table')
    .action(async (options: { json?: boolean }) => {
      const [{ loadConfig }, { runStatusCommand }] = await Promise.all([import('./config.js'), import('./commands/status.js')]);
      await runStatusCommand(loadConfig(), options);
    });

  program
    .command('sql')
    .description('serve the embedded database to psql and analyst tools on 127.0.0.1 until Ctrl-C')
    .option('--port <n>', 'the port to listen on (0: any free port)', portOption, DEFAULT_SQL_PORT)
    .action((options: SqlCommandOptions) => withConfig(async (config, logger) => (await import('./commands/sql.js')).runSqlCommand(options, config, logger)));

  useOneLineErrors(program);
  return program;
}

/** The command's logger, once it has one: a failure's stack goes there at debug level. */
let commandLogger: Logger | undefined;

runGuarded(
  () => buildProgram().parseAsync(process.argv).then(() => undefined),
  (error) => commandLogger?.debug({ err: error }, 'the failure in full'),
);
