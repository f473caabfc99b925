/**
 * `pubcat export [--format solr|jsonl|csv] [--since T | --target NAME] [--out FILE] [--post URL]`:
 * the catalogue for a VuFind Solr index, pandas or DuckDB. The summary line goes to stderr, since
 * stdout may be the export itself.
 */
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { runExport } from '../export/export.js';
import { EXPORT_FORMATS, type ExportFormat } from '../export/formats.js';
import { SolrPostSink, solrUpdateUrl } from '../export/solr-post.js';
import { StreamSink, type ExportSink } from '../export/stream-sink.js';
import { TARGET_NAME } from '../export/targets.js';
import type { Logger } from '../logger.js';
import { createProgressReporter } from '../pipeline/progress.js';
import { plural } from '../plural.js';
import { terminalFor } from '../terminal.js';
import { openMigratedDatabase } from './run-support.js';

export { EXPORT_FORMATS };

export interface ExportCommandOptions {
  format: ExportFormat;
  since?: string;
  target?: string;
  out?: string;
  post?: string;
  batchSize?: number;
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/;

/** An ISO 8601 date or date-time (without a zone, UTC), as the instant PostgreSQL compares with. */
export function parseSince(text: string): string {
  const match = ISO_TIME.exec(text.trim());
  const zone = match?.[3]?.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') ?? 'Z';
  const time = match === null ? Number.NaN : Date.parse(`${match[1]}T${match[2] ?? '00:00'}${zone}`);
  if (Number.isNaN(time)) {
    throw new InputError(`--since ${text} is not an ISO time: give e.g. 2026-01-31 or 2026-01-31T08:00:00Z`, { input: text });
  }
  return new Date(time).toISOString();
}

export async function runExportCommand(options: ExportCommandOptions, config: Config, logger: Logger): Promise<void> {
  const started = Date.now();
  const since = options.since === undefined ? undefined : parseSince(options.since);
  if (options.target !== undefined && !TARGET_NAME.test(options.target)) {
    throw new InputError(`--target ${options.target} is not a target name: use letters, digits, . _ - (starting with a letter or digit)`, {
      input: options.target,
    });
  }
  if (options.post !== undefined && options.format !== 'solr') {
    throw new InputError(`--post sends Solr update commands: use it with --format solr, not ${options.format}`, { input: options.format });
  }
  const postUrl = options.post === undefined ? undefined : solrUpdateUrl(options.post);
  const toStdout = postUrl === undefined && (options.out === undefined || options.out === '-');

  const database = await openMigratedDatabase(config, logger);
  try {
    const sink: ExportSink =
      postUrl !== undefined ? new SolrPostSink(postUrl) : toStdout ? StreamSink.stdout(options.format) : await StreamSink.file(options.out!, options.format);
    // The bar goes where the person is: a terminal on stderr. A log line every few seconds
    // would only clutter an export piped on in a script, so there is none.
    const progress = terminalFor(process.stderr).isTTY ? createProgressReporter(process.stderr, logger) : undefined;
    const outcome = await runExport(database, { format: options.format, since, target: options.target, pageSize: options.batchSize }, sink, progress);
    const seconds = (Date.now() - started) / 1000;
    const where = postUrl !== undefined ? ` to ${postUrl.origin}${postUrl.pathname}` : toStdout ? '' : ` to ${options.out}`;
    const deletes =
      options.format === 'jsonl' ? `${plural(outcome.deletes, 'tombstone')} left out` : plural(outcome.deletes, options.format === 'csv' ? 'tombstone' : 'delete');
    process.stderr.write(`export ${options.format}${where}: ${plural(outcome.records, 'record')}, ${deletes} in ${seconds.toFixed(1)}s\n`);
  } finally {
    await database.close();
  }
}
