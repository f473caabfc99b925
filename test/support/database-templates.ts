/**
 * Global setup: migrates one database per backend before any test runs, so that every test
 * database starts as a copy of it instead of running initdb and every migration again: a copied
 * data directory or loaded dump on PGlite, `CREATE DATABASE … TEMPLATE` on PostgreSQL. Tests of
 * the migrations themselves open unmigrated databases and still run them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/load/db.js';
import { migrate } from '../../src/load/migrate.js';
import { withAdminClient, withDatabaseName } from './admin-client.js';

export interface DatabaseTemplates {
  /** A migrated, closed PGlite data directory: copy it, never open it. */
  pgliteDataDir: string;
  /** The same database as a dump (`dumpDataDir`), for in-memory databases. */
  pgliteDump: string;
  /** A migrated PostgreSQL database to create test databases from; absent without a server. */
  postgresTemplate?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseTemplates: DatabaseTemplates;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = await mkdtemp(join(tmpdir(), 'pubcat-templates-'));
  const pgliteDataDir = join(root, 'pglite');
  const pgliteDump = join(root, 'pglite.tar');
  const embedded = await openDatabase({ databaseUrl: undefined, dataDir: pgliteDataDir });
  try {
    await migrate(embedded);
    const dump = await embedded.pglite!.dumpDataDir('none');
    await writeFile(pgliteDump, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await embedded.close();
  }

  const serverUrl = process.env.TEST_DATABASE_URL;
  const postgresTemplate = serverUrl === undefined ? undefined : await createPostgresTemplate(serverUrl);
  project.provide('databaseTemplates', { pgliteDataDir, pgliteDump, ...(postgresTemplate && { postgresTemplate }) });

  return async () => {
    await rm(root, { recursive: true, force: true });
    if (serverUrl !== undefined && postgresTemplate !== undefined) {
      await withAdminClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${postgresTemplate} WITH (FORCE)`));
    }
  };
}

async function createPostgresTemplate(serverUrl: string): Promise<string> {
  const name = `pubcat_template_${randomBytes(6).toString('hex')}`;
  await withAdminClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const database = await openDatabase({ databaseUrl: withDatabaseName(serverUrl, name), dataDir: 'unused' });
  try {
    await migrate(database);
  } finally {
    await database.close();
  }
  return name;
}
