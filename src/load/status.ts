/** What `pubcat status` reports, read in a handful of cheap queries. */
import { sql, type Kysely } from 'kysely';
import type { Database, RunJob, RunStatus } from './schema.js';

export interface RunSummary {
  id: number;
  job: RunJob;
  status: RunStatus;
  scheduledFor: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationSeconds: number;
  requested: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  missing: number;
  failed: number;
  invalid: number;
  replica: string;
  error: string | null;
}

export interface CatalogueStatus {
  migrated: boolean;
  records: { active: number; deleted: number };
  missingPmids: { count: number; recent: number[] };
  runs: RunSummary[];
}

const RECENT_RUNS = 10;
const RECENT_MISSING = 10;

export async function readCatalogueStatus(db: Kysely<Database>): Promise<CatalogueStatus> {
  const { rows } = await sql<{ present: boolean }>`SELECT to_regclass('catalogue_record') IS NOT NULL AS present`.execute(db);
  if (rows[0]?.present !== true) {
    return { migrated: false, records: { active: 0, deleted: 0 }, missingPmids: { count: 0, recent: [] }, runs: [] };
  }
  const byStatus = await db
    .selectFrom('catalogue_record')
    .select(['status', (eb) => eb.fn.countAll<string>().as('count')])
    .groupBy('status')
    .execute();
  const missingCount = await db
    .selectFrom('missing_pmid')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  const recentMissing = await db
    .selectFrom('missing_pmid')
    .select('pmid')
    .orderBy('last_missing_at', 'desc')
    .orderBy('pmid')
    .limit(RECENT_MISSING)
    .execute();
  const runs = await db.selectFrom('etl_run').selectAll().orderBy('id', 'desc').limit(RECENT_RUNS).execute();

  const count = (status: string) => Number(byStatus.find((row) => row.status === status)?.count ?? 0);
  return {
    migrated: true,
    records: { active: count('active'), deleted: count('deleted') },
    missingPmids: { count: Number(missingCount.count), recent: recentMissing.map((row) => Number(row.pmid)) },
    runs: runs.map((run) => ({
      id: Number(run.id),
      job: run.job,
      status: run.status,
      scheduledFor: run.scheduled_for?.toISOString() ?? null,
      startedAt: run.started_at.toISOString(),
      finishedAt: run.finished_at?.toISOString() ?? null,
      durationSeconds: ((run.finished_at ?? run.heartbeat_at).getTime() - run.started_at.getTime()) / 1000,
      requested: run.requested,
      inserted: run.inserted,
      updated: run.updated,
      unchanged: run.unchanged,
      deleted: run.deleted,
      missing: run.missing,
      failed: run.failed,
      invalid: run.invalid,
      replica: run.replica,
      error: run.error,
    })),
  };
}
