/**
 * The backends every integration test runs on: embedded PGlite always, and PostgreSQL when
 * TEST_DATABASE_URL points at a server (a fresh database is created per opened test database and
 * dropped when it closes, so test files never see each other's rows).
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { withAdminClient, withDatabaseName } from './admin-client.js';
import { openDatabase, type CatalogueDatabase } from '../../src/load/db.js';

export interface TestDatabase extends CatalogueDatabase {
  /** The environment a `pubcat` child process needs to use this same database. */
  env: { DATABASE_URL?: string; PUBCAT_DATA_DIR: string };
  /**
   * Runs `work` (typically `pubcat` child processes) while this process lets go of the database:
   * an embedded data directory can be open in one process only. `db` is usable again afterwards.
   */
  whileDetached<T>(work: () => Promise<T>): Promise<T>;
}

export interface TestBackend {
  name: 'pglite' | 'postgres';
  /** Opens an empty database; `migrated` (default true) applies sql/ first. */
  open(options?: { migrated?: boolean; onDisk?: boolean }): Promise<TestDatabase>;
}

const serverUrl = process.env.TEST_DATABASE_URL;
const templates = inject('databaseTemplates');

let pgliteDump: Promise<Blob> | undefined;
/** The migrated template as a dump, read once per test file. */
function migratedDump(): Promise<Blob> {
  pgliteDump ??= readFile(templates.pgliteDump).then((bytes) => new Blob([bytes]));
  return pgliteDump;
}

/**
 * A new embedded data directory holding the migrated schema, for tests that run `pubcat` in a
 * child process: the child then skips initdb and the migrations. Remove it when done.
 */
export async function migratedDataDir(prefix = 'pubcat-test-'): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  await cp(templates.pgliteDataDir, dataDir, { recursive: true });
  return dataDir;
}

const pglite: TestBackend = {
  name: 'pglite',
  async open({ migrated = true, onDisk = false } = {}) {
    // In memory unless a child process must open the same data directory.
    let dataDir = 'memory://';
    if (onDisk) dataDir = migrated ? await migratedDataDir() : await mkdtemp(join(tmpdir(), 'pubcat-test-'));
    const template = migrated && !onDisk ? await migratedDump() : undefined;
    let database = await openDatabase({ databaseUrl: undefined, dataDir, ...(template && { template }) });
    const testDatabase: TestDatabase = {
      ...database,
      env: { PUBCAT_DATA_DIR: dataDir },
      async whileDetached(work) {
        if (!onDisk) throw new Error('open the PGlite test database with onDisk: true to share it with a child');
        await database.close();
        try {
          return await work();
        } finally {
          database = await openDatabase({ databaseUrl: undefined, dataDir });
          Object.assign(testDatabase, { db: database.db, runScript: database.runScript, copyOut: database.copyOut });
        }
      },
      close: async () => {
        await database.close();
        if (onDisk) await rm(dataDir, { recursive: true, force: true });
      },
    };
    return testDatabase;
  },
};

function postgres(url: string): TestBackend {
  return {
    name: 'postgres',
    async open({ migrated = true } = {}) {
      const name = `pubcat_test_${randomBytes(6).toString('hex')}`;
      // The global setup migrated the template whenever this backend exists (TEST_DATABASE_URL).
      // The copy has the template's objects and their grants, not the database's own privileges.
      const template = migrated ? ` TEMPLATE ${templates.postgresTemplate}` : '';
      await withAdminClient(url, (client) => client.query(`CREATE DATABASE ${name}${template}`));
      const databaseUrl = withDatabaseName(url, name);
      const database = await openDatabase({ databaseUrl, dataDir: 'unused' });
      return {
        ...database,
        env: { DATABASE_URL: databaseUrl, PUBCAT_DATA_DIR: 'unused' },
        whileDetached: (work) => work(),
        close: async () => {
          await database.close();
          await withAdminClient(url, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
        },
      };
    },
  };
}

export const backends: TestBackend[] = serverUrl === undefined ? [pglite] : [pglite, postgres(serverUrl)];

/**
 * The one backend for a command-line test whose point does not depend on the database (input
 * parsing, times, resumption logic): PostgreSQL when there is one, since a child process opens it
 * in a fraction of the time an embedded database takes; the embedded database otherwise. What the
 * embedded database does differently (locks, opening, a child killed mid-write) is tested on it.
 */
export const cliBackends: TestBackend[] = [backends[backends.length - 1]!];

/** The PostgreSQL backend alone, for what PGlite cannot show (several processes, roles). */
export const postgresBackend: TestBackend | undefined = serverUrl === undefined ? undefined : postgres(serverUrl);
