/**
 * Applies the numbered plain-SQL files of sql/ in order, each in its own transaction, and records
 * them in schema_migrations. Every step first locks schema_migrations itself, so two processes
 * migrating at once queue behind each other and the second finds the work done; a transaction
 * lock (not a session lock) also holds behind a transaction-pooling PgBouncer. Not an advisory
 * lock: any role that can connect may take one (pubcat_reader too, unless a superuser revoked
 * them, see sql/012), hold pubcat's key and stall every command, while locking a table takes a
 * privilege on it that only pubcat's own role has.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Transaction } from 'kysely';
import { DatabaseError } from '../errors.js';
import { untimedTransaction, type CatalogueDatabase } from './db.js';
import type { Database } from './schema.js';

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
/** What a CREATE TABLE racing another process's, committed meanwhile, fails with: unique_violation, duplicate_table. */
const CONCURRENTLY_CREATED = new Set(['23505', '42P07']);

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
  await createMigrationTable(database);

  const outcome: MigrationOutcome = { applied: [], skipped: [], alreadyApplied: 0 };
  for (const migration of pending) {
    // No statement timeout: a migration may rewrite a big table, and the lock may wait for
    // another process's long migration.
    await untimedTransaction(database, async (trx) => {
      await lockMigrations(trx);
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

/**
 * Creates schema_migrations where it is missing. Nothing can be locked before it exists: two
 * processes creating it at once both get past IF NOT EXISTS, and the second fails once the first
 * commits; asked again, it finds the table.
 */
async function createMigrationTable(database: CatalogueDatabase): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await untimedTransaction(database, async (trx) => {
        await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`.execute(trx);
        await lockMigrations(trx);
        await sql`COMMENT ON TABLE schema_migrations IS 'The sql/ files applied to this database (pubcat migrate).'`.execute(trx);
      });
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt > 1 || typeof code !== 'string' || !CONCURRENTLY_CREATED.has(code)) throw error;
    }
  }
}

/** One migrating transaction at a time; SHARE ROW EXCLUSIVE still lets `status` read the table. */
async function lockMigrations(trx: Transaction<Database>): Promise<void> {
  await sql`LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE`.execute(trx);
}
