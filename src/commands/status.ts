import type { Config } from '../config.js';
import { openDatabase } from '../load/db.js';
import { readCatalogueStatus, type CatalogueStatus, type RunSummary } from '../load/status.js';

export async function runStatusCommand(config: Config, options: { json?: boolean }): Promise<void> {
  const database = await openDatabase(config);
  try {
    const status = await readCatalogueStatus(database.db);
    const report = { database: database.location, backend: database.backend, ...status };
    process.stdout.write(options.json === true ? `${JSON.stringify(report)}\n` : formatStatus(report));
  } finally {
    await database.close();
  }
}

export function formatStatus(report: CatalogueStatus & { database: string; backend: string }): string {
  const lines = [`database  ${report.database} (${report.backend})`];
  if (!report.migrated) {
    lines.push('schema    not created yet: run `pubcat migrate`');
    return `${lines.join('\n')}\n`;
  }
  const { active, deleted } = report.records;
  lines.push(
    active + deleted === 0
      ? 'records   none yet: the catalogue is empty (load some with `pubcat backfill`)'
      : `records   ${active} active, ${deleted} deleted`,
  );
  const { count, recent } = report.missingPmids;
  lines.push(count === 0 ? 'missing   none' : `missing   ${count} PMIDs (latest: ${recent.join(', ')})`);
  if (report.runs.length === 0) {
    lines.push('runs      none yet');
  } else {
    lines.push(`runs      latest ${report.runs.length}, newest first:`);
    lines.push(formatRunTable(report.runs));
  }
  return `${lines.join('\n')}\n`;
}

const RUN_COLUMNS: Array<[string, (run: RunSummary) => string]> = [
  ['run', (run) => String(run.id)],
  ['job', (run) => run.job],
  ['status', (run) => run.status],
  ['started', (run) => run.startedAt.replace('T', ' ').slice(0, 19)],
  ['duration', (run) => `${run.durationSeconds.toFixed(1)}s`],
  ['requested', (run) => String(run.requested)],
  ['inserted', (run) => String(run.inserted)],
  ['updated', (run) => String(run.updated)],
  ['unchanged', (run) => String(run.unchanged)],
  ['deleted', (run) => String(run.deleted)],
  ['missing', (run) => String(run.missing)],
  ['failed', (run) => String(run.failed)],
  ['replica', (run) => run.replica],
];

function formatRunTable(runs: RunSummary[]): string {
  const cells = [RUN_COLUMNS.map(([title]) => title), ...runs.map((run) => RUN_COLUMNS.map(([, cell]) => cell(run)))];
  const widths = RUN_COLUMNS.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}`).join('\n');
}
