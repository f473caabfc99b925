/** `pubcat show PMID [--history] [--json]`: one catalogue record, and with --history its versions. */
import type { Config } from '../config.js';
import { InputError } from '../errors.js';
import { openDatabase } from '../load/db.js';
import { catalogueExists } from '../load/status.js';
import type { Logger } from '../logger.js';
import { parsePmid } from '../pipeline/pmid-input.js';
import { plural } from '../plural.js';
import { formatTime } from '../time-format.js';

export async function runShowCommand(pmidText: string, options: { history?: boolean; json?: boolean }, config: Config, _logger: Logger): Promise<void> {
  const pmid = parsePmid(pmidText);
  if (typeof pmid !== 'number') throw new InputError(notAPmid(pmidText, pmid.reason), { input: pmidText });
  const database = await openDatabase(config);
  try {
    const { db } = database;
    const row = (await catalogueExists(db))
      ? await db
          .selectFrom('catalogue_record')
          .select(['pmid', 'catalogue_id', 'status', 'version', 'record', 'last_changed_at', 'last_checked_at'])
          .where('pmid', '=', pmid)
          .executeTakeFirst()
      : undefined;
    if (row === undefined) {
      throw new InputError(`PMID ${pmid} is not in the catalogue (load it with \`pubcat backfill ${pmid}\`)`, { input: pmid });
    }

    if (options.history !== true) {
      process.stdout.write(options.json === true ? `${JSON.stringify(row.record, null, 2)}\n` : formatRecord(row));
      return;
    }
    const history = await db
      .selectFrom('catalogue_record_version as v')
      .leftJoin('etl_run as r', 'r.id', 'v.run_id')
      .select(['v.version', 'v.op', 'v.changed_at', 'v.run_id', 'r.job', 'v.changed_fields', 'v.catalogue_id'])
      .where('v.pmid', '=', pmid)
      .orderBy('v.version')
      .execute();
    if (options.json === true) {
      const versions = history.map((version) => ({ ...version, changed_at: version.changed_at.toISOString() }));
      const report = { pmid, catalogue_id: row.catalogue_id, status: row.status, version: row.version, history: versions };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const lines = [`PMID ${pmid}  ${row.catalogue_id}  ${row.status}, ${plural(history.length, 'version')}`];
    for (const version of history) {
      const fields = version.changed_fields.length === 0 ? '' : `  changed: ${version.changed_fields.join(', ')}`;
      const run = version.run_id === null ? '' : `  run ${version.run_id}${version.job === null ? '' : ` (${version.job})`}`;
      lines.push(`  v${version.version}  ${version.op.padEnd(7)}  ${formatTime(version.changed_at)}${run}  ${version.catalogue_id}${fields}`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await database.close();
  }
}

/**
 * parsePmid words its reasons for a line of input ("blank line", "not a PMID (…)"); here they are
 * said of the argument, naming it once.
 */
function notAPmid(text: string, reason: string): string {
  const shown = text.trim() === '' ? '""' : text;
  if (reason.startsWith('not a PMID')) return `${shown} is ${reason}`;
  if (reason === 'blank line') return `${shown} is not a PMID: give the PMID to show (a positive whole number)`;
  return `${shown} is not a PMID: ${reason}`;
}

/** The record as the catalogue's staff view shows it: `field | value |`, fields in name order. */
function formatRecord(row: {
  pmid: number;
  catalogue_id: string;
  status: string;
  version: number;
  record: object;
  last_changed_at: Date;
  last_checked_at: Date;
}): string {
  const lines = [
    `PMID ${row.pmid}  ${row.catalogue_id}  ${row.status}, version ${row.version}, ` +
      `changed ${formatTime(row.last_changed_at)}, checked ${formatTime(row.last_checked_at)}`,
    '',
    'field | value |',
    '---|---|',
  ];
  const entries = Object.entries(row.record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [field, value] of entries) {
    lines.push(`${field} | ${Array.isArray(value) ? value.join(' ') : String(value)} |`);
  }
  return `${lines.join('\n')}\n`;
}
