/**
 * Opens the catalogue database: PostgreSQL through a pg Pool when DATABASE_URL is set, else the
 * embedded PGlite stored in PUBCAT_DATA_DIR. Both speak the same SQL; the few places where they
 * differ (multi-statement scripts, roles, several connections) ask `backend`. Every command opens
 * its database here, so every one gets the same limit on each wait on PostgreSQL (postgres-pool.ts).
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { DEFAULT_DATABASE_TIMEOUTS, redactUrl, type DatabaseTimeouts } from '../config.js';
import { DatabaseError } from '../errors.js';
import { createTimedPool, withoutClientStatementLimit } from './postgres-pool.js';
import type { Database } from './schema.js';

export type Backend = 'postgres' | 'pglite';

/**
 * A connection (or a transaction) and the backend behind it: the load statements send their
 * array parameters in each backend's own way (array-params.ts).
 */
export interface DatabaseTarget {
  db: Kysely<Database>;
  backend: Backend;
}

export interface CatalogueDatabase extends DatabaseTarget {
  /** Where it lives, for messages: the URL without its password, or the data directory. */
  location: string;
  /** Runs a script of several SQL statements (a migration file) on the given connection. */
  runScript(executor: Kysely<Database> | Transaction<Database>, script: string): Promise<void>;
  close(): Promise<void>;
}

/** Every command passes its Config, which has all of these. */
export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** PostgreSQL only: the embedded database is in this process and has nothing to wait for. */
  databaseTimeouts?: DatabaseTimeouts;
  /** pg Pool size; PGlite has a single connection whatever this says. */
  poolSize?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<CatalogueDatabase> {
  return options.databaseUrl === undefined
    ? openEmbedded(options.dataDir)
    : openPostgres(options.databaseUrl, options.poolSize ?? 10, options.databaseTimeouts ?? DEFAULT_DATABASE_TIMEOUTS);
}

async function openPostgres(databaseUrl: string, poolSize: number, timeouts: DatabaseTimeouts): Promise<CatalogueDatabase> {
  const pool = createTimedPool(databaseUrl, poolSize, timeouts);
  try {
    await pool.check();
  } catch (error) {
    await pool.end();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    backend: 'postgres',
    location: redactUrl(databaseUrl),
    // With no parameters pg uses the simple query protocol, which accepts several statements.
    runScript: async (executor, script) => {
      await sql.raw(script).execute(executor);
    },
    close: () => db.destroy(),
  };
}

async function openEmbedded(dataDir: string): Promise<CatalogueDatabase> {
  let pglite: PGlite;
  try {
    // `memory://` keeps the database in memory (tests); anything else is a directory on disk.
    if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
    pglite = await PGlite.create(dataDir);
  } catch (error) {
    throw new DatabaseError(`cannot open the embedded database in ${dataDir}: ${describe(error)}`, {
      input: dataDir,
      cause: error,
    });
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    backend: 'pglite',
    location: dataDir,
    // PGlite is one session, so exec() runs inside whatever transaction that session has open.
    runScript: async (_executor, script) => {
      await pglite.exec(script);
    },
    close: () => db.destroy(),
  };
}

/**
 * A transaction whose statements have no time limit, on the server or in the client: a migration
 * may rewrite a big table, or wait for another process's migration to finish.
 */
export function untimedTransaction<T>(target: DatabaseTarget, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (target.backend === 'pglite') return target.db.transaction().execute(work);
  return withoutClientStatementLimit(() =>
    target.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);
      return work(trx);
    }),
  );
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}
