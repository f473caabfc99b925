/**
 * One migrated embedded catalogue for a benchmark's runs to start from: created and migrated once,
 * then copied for each run, so that a run on a loaded machine measures what it is about rather
 * than initdb and every migration (seconds of CPU each). pubcat finds the copy already migrated.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/load/db.js';
import { migrate } from '../src/load/migrate.js';

/** Runs `work` with a migrated, closed PGlite data directory (copy it, never open it), removed at the end. */
export async function withMigratedDataDir<T>(work: (dataDir: string) => Promise<T>): Promise<T> {
  const root = await mkdtemp(join(tmpdir(), 'pubcat-bench-catalogue-'));
  try {
    const dataDir = join(root, 'pglite');
    const embedded = await openDatabase({ databaseUrl: undefined, dataDir });
    try {
      await migrate(embedded);
    } finally {
      await embedded.close();
    }
    return await work(dataDir);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
