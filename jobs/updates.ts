/**
 * The updates job: `import --remote updates` on PUBCAT_CRON_UPDATES (off by default). NCBI posts
 * an update file a day; each run downloads and imports the ones not imported yet. The run is the
 * one the scheduler claimed, and the scheduler closes it: refused files are noted on it, so that
 * it ends `partial`. A run released at shutdown needs no checkpoint: each file resumes from its
 * own (import_file), and the files done are not downloaded again.
 */
import { sql } from 'kysely';
import { importRemote, type FilesConfig } from '../src/commands/import-remote.js';
import { pickCounters, type RunCounters, type RunHandle } from '../src/load/runs.js';
import { ImportRun } from '../src/pipeline/file-import.js';
import type { JobContext } from './context.js';

/** Scheduled update imports share one key; an import started by hand has its own. */
export const UPDATES_INPUT_KEY = 'import:remote:updates';

export async function importUpdates(run: RunHandle, context: JobContext, config: FilesConfig): Promise<RunCounters> {
  const importRun = await ImportRun.start(context, { force: false, run });
  await importRemote(context, config, importRun, { collection: 'updates', force: false, keepDownloads: false });
  const refusals = importRun.refusals;
  const { db } = context.database;
  if (refusals.length > 0) {
    await db
      .updateTable('etl_run')
      .set({ error: sql<string>`concat_ws('; ', error, ${`${refusals.length} file${refusals.length === 1 ? '' : 's'} refused: ${refusals.join('; ')}`}::text)` })
      .where('id', '=', run.id)
      .where('replica', '=', run.replica)
      .execute();
  }
  return pickCounters(await db.selectFrom('etl_run').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow());
}
