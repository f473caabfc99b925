/** What `pubcat status` reports, read in a handful of cheap queries. */
import { sql, type Kysely } from 'kysely';
import { closeDeadBackfills, pickCounters, type RunCounters } from './runs.js';
import type { Database, RunJob, RunStatus } from './schema.js';

export interface RunSummary extends RunCounters {
  id: number;
  job: RunJob;
  status: RunStatus;
  scheduledFor: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationSeconds: number;
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

/** Whether `pubcat migrate` (or a first run) has created the catalogue in this database. */
export async function catalogueExists(db: Kysely<Database>): Promise<boolean> {
  const { rows } = await sql<{ present: boolean }>`SELECT to_regclass('catalogue_record') IS NOT NULL AS present`.execute(db);
  return rows[0]?.present === true;
}

export async function readCatalogueStatus(db: Kysely<Database>): Promise<CatalogueStatus> {
  if (!(await catalogueExists(db))) {
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
  await closeDeadBackfills(db);
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
      ...pickCounters(run),
      replica: run.replica,
      error: run.error,
    })),
  };
}

export interface JobHealth {
  job: RunJob;
  lastRun: { id: number; status: RunStatus; scheduledFor: string | null; startedAt: string; finishedAt: string | null } | null;
  /** The running run and its replica while its heartbeat is fresh: someone holds the job. */
  heldBy: { runId: number; replica: string; heartbeatAt: string } | null;
  /** A running run whose heartbeat went stale: its replica died, the next one up takes it over. */
  stale: { runId: number; replica: string; heartbeatAt: string } | null;
}

/** For each job: its latest run, and whether a live replica holds it, by the database's clock. */
export async function readJobHealth(db: Kysely<Database>, jobs: RunJob[], staleSeconds: number): Promise<JobHealth[]> {
  return Promise.all(
    jobs.map(async (job) => {
      const last = await db
        .selectFrom('etl_run')
        .select(['id', 'status', 'scheduled_for', 'started_at', 'finished_at'])
        .where('job', '=', job)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const running = await db
        .selectFrom('etl_run')
        .select(['id', 'replica', 'heartbeat_at', sql<boolean>`heartbeat_at >= now() - make_interval(secs => ${staleSeconds})`.as('fresh')])
        .where('job', '=', job)
        .where('status', '=', 'running')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      const holder = running === undefined ? null : { runId: Number(running.id), replica: running.replica, heartbeatAt: running.heartbeat_at.toISOString() };
      return {
        job,
        lastRun:
          last === undefined
            ? null
            : {
                id: Number(last.id),
                status: last.status,
                scheduledFor: last.scheduled_for?.toISOString() ?? null,
                startedAt: last.started_at.toISOString(),
                finishedAt: last.finished_at?.toISOString() ?? null,
              },
        heldBy: running?.fresh === true ? holder : null,
        stale: running !== undefined && running.fresh !== true ? holder : null,
      };
    }),
  );
}
