/**
 * Applies the numbered plain-SQL files of sql/ in order, each in its own transaction, and records
 * them in schema_migrations. Every step takes one transaction-scoped advisory lock first, so two
 * processes migrating at once queue behind each other and the second finds the work done; a
 * transaction lock (not a session lock) also holds behind a transaction-pooling PgBouncer.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { DatabaseError } from '../errors.js';
import { untimedTransaction, type CatalogueDatabase } from './db.js';

export interface Migration {
  version: number;
  name: string;
  script: string;
  checksum: string;
  /** Files whose first line says `-- pubcat:postgres-only` are recorded but not run on PGlite. */
  postgresOnly: boolean;
}

export interface MigrationOutcome {
  applied: string[];
  skipped: string[];
  alreadyApplied: number;
}

const MIGRATION_FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
const POSTGRES_ONLY_MARK = '-- pubcat:postgres-only';
// Any fixed number works; it only has to be the same for every pubcat process.
const MIGRATION_LOCK_KEY = 7_041_992_517;

/** sql/ sits at the package root: two levels above src/load, three above dist/src/load. */
export function findSqlDirectory(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'sql')) && existsSync(join(dir, 'package.json'))) return join(dir, 'sql');
    if (dirname(dir) === dir) throw new DatabaseError(`no sql/ directory above ${from}`, { input: from });
  }
}

export async function readMigrations(directory: string = findSqlDirectory()): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of (await readdir(directory)).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = MIGRATION_FILE.exec(file);
    if (match === null) {
      throw new DatabaseError(`migration file ${file} is not named NNN_name.sql`, { input: file });
    }
    const script = await readFile(join(directory, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: file,
      script,
      checksum: createHash('sha256').update(script).digest('hex'),
      postgresOnly: script.startsWith(POSTGRES_ONLY_MARK),
    });
  }
  const versions = migrations.map((migration) => migration.version);
  const duplicate = versions.find((version, index) => versions.indexOf(version) !== index);
  if (duplicate !== undefined) {
    throw new DatabaseError(`two migration files share number ${duplicate}`, { input: directory });
  }
  return migrations;
}

export async function migrate(
  database: CatalogueDatabase,
  migrations?: Migration[],
  onNotice: (message: string) => void = () => undefined,
): Promise<MigrationOutcome> {
  const pending = migrations ?? (await readMigrations());
  // No statement timeout: a migration may rewrite a big table, and the advisory lock may wait for
  // another process's long migration.
  await untimedTransaction(database, async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`.execute(trx);
    await sql`COMMENT ON TABLE schema_migrations IS 'The sql/ files applied to this database (pubcat migrate).'`.execute(trx);
  });

  const outcome: MigrationOutcome = { applied: [], skipped: [], alreadyApplied: 0 };
  for (const migration of pending) {
    await untimedTransaction(database, async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx);
      const recorded = await trx
        .selectFrom('schema_migrations')
        .select(['name', 'checksum'])
        .where('version', '=', migration.version)
        .executeTakeFirst();
      if (recorded !== undefined) {
        if (recorded.checksum !== migration.checksum) {
          throw new DatabaseError(
            `migration ${migration.name} was changed after it was applied (as ${recorded.name}); add a new file instead`,
            { input: migration.name },
          );
        }
        outcome.alreadyApplied += 1;
        return;
      }
      if (migration.postgresOnly && database.backend === 'pglite') {
        onNotice(`${migration.name} skipped: it applies to PostgreSQL only`);
        outcome.skipped.push(migration.name);
      } else {
        try {
          await database.runScript(trx, migration.script);
        } catch (error) {
          throw new DatabaseError(`migration ${migration.name} failed: ${(error as Error).message}`, {
            input: migration.name,
            cause: error,
          });
        }
        outcome.applied.push(migration.name);
      }
      await trx
        .insertInto('schema_migrations')
        .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
        .execute();
    });
  }
  return outcome;
}
