import { nextFireTime } from '../../jobs/scheduler.js';
import type { Config } from '../config.js';
import { openDatabase } from '../load/db.js';
import { STALE_HEARTBEAT_SECONDS } from '../load/runs.js';
import { readCatalogueStatus, readJobHealth, type CatalogueStatus, type JobHealth, type RunSummary } from '../load/status.js';
import { snakeCaseKeys } from '../json-keys.js';
import { plural } from '../plural.js';
import { formatTime } from '../time-format.js';

/** A scheduled job as `pubcat status` shows it: its schedule here, its runs in the database. */
export interface JobStatus extends JobHealth {
  /** The cron expression, or null when the job is off. */
  cron: string | null;
  nextFire: string | null;
}

export async function runStatusCommand(config: Config, options: { json?: boolean }): Promise<void> {
  const database = await openDatabase(config);
  try {
    const status = await readCatalogueStatus(database.db);
    // import: the scheduled `import --remote updates` (its last run may be one started by hand).
    const schedules = { refresh: config.cronRefresh, sync: config.cronSync, import: config.cronUpdates } as const;
    const health = status.migrated ? await readJobHealth(database.db, ['refresh', 'sync', 'import'], STALE_HEARTBEAT_SECONDS) : [];
    const jobs: JobStatus[] = (['refresh', 'sync', 'import'] as const).map((job) => {
      const cron = schedules[job];
      const known = health.find((entry) => entry.job === job);
      return {
        job,
        cron,
        nextFire: cron === null ? null : nextFireTime(cron).toISOString(),
        lastRun: known?.lastRun ?? null,
        heldBy: known?.heldBy ?? null,
        stale: known?.stale ?? null,
      };
    });
    const report = { database: database.location, backend: database.backend, ...status, jobs };
    process.stdout.write(options.json === true ? `${JSON.stringify(snakeCaseKeys(report))}\n` : formatStatus(report));
  } finally {
    await database.close();
  }
}

export function formatStatus(report: CatalogueStatus & { database: string; backend: string; jobs: JobStatus[] }): string {
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
  lines.push(count === 0 ? 'missing   none' : `missing   ${plural(count, 'PMID')} (latest: ${recent.join(', ')})`);
  lines.push('jobs');
  lines.push(formatTable(JOB_COLUMNS, report.jobs));
  if (report.runs.length === 0) {
    lines.push('runs      none yet');
  } else {
    lines.push(`runs      latest ${report.runs.length}, newest first:`);
    lines.push(formatTable(RUN_COLUMNS, report.runs));
  }
  return `${lines.join('\n')}\n`;
}

const RUN_COLUMNS: Array<[string, (run: RunSummary) => string]> = [
  ['run', (run) => String(run.id)],
  ['job', (run) => run.job],
  ['status', (run) => run.status],
  ['started', (run) => formatTime(run.startedAt)],
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

const JOB_COLUMNS: Array<[string, (job: JobStatus) => string]> = [
  ['job', (job) => job.job],
  ['cron', (job) => job.cron ?? 'off'],
  ['next fire', (job) => (job.nextFire === null ? '-' : formatTime(job.nextFire))],
  ['last run', (job) => (job.lastRun === null ? 'none' : `${job.lastRun.id} ${job.lastRun.status} ${formatTime(job.lastRun.startedAt)}`)],
  [
    'held by',
    (job) =>
      job.heldBy !== null
        ? `${job.heldBy.replica} (run ${job.heldBy.runId})`
        : job.stale !== null
          ? `nobody: run ${job.stale.runId} on ${job.stale.replica} went silent at ${formatTime(job.stale.heartbeatAt)}`
          : '-',
  ],
];

function formatTable<Row>(columns: Array<[string, (row: Row) => string]>, rows: Row[]): string {
  const cells = [columns.map(([title]) => title), ...rows.map((row) => columns.map(([, cell]) => cell(row)))];
  const widths = columns.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()}`).join('\n');
}
