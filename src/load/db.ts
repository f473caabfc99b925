/**
 * Opens the catalogue database: PostgreSQL through a pg Pool when DATABASE_URL is set, else the
 * embedded PGlite stored in PUBCAT_DATA_DIR. Both speak the same SQL; the few places where they
 * differ (multi-statement scripts, roles, several connections) ask `backend`. Every command opens
 * its database here, so every one gets the same guards: on PostgreSQL a limit on each wait
 * (postgres-pool.ts), on disk a lock that keeps a second process out (data-dir-lock.ts).
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { DEFAULT_DATABASE_TIMEOUTS, redactUrl, type DatabaseTimeouts, type LogFormat, type LogLevel } from '../config.js';
import { DatabaseError } from '../errors.js';
import { createLogger } from '../logger.js';
import { describeDataDirFailure, refuseUnwritableDataDir } from './data-dir-access.js';
import { describeHolder, lockDataDir, type StaleLock } from './data-dir-lock.js';
import { pgliteCopyOut, postgresCopyOut, type CopyOut } from './copy-out.js';
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
  /** Runs `COPY (query) TO … (FORMAT binary)` and returns its bytes (copy-out.ts). */
  copyOut: CopyOut;
  /** The embedded database itself, for `pubcat sql` to serve over a socket; absent on PostgreSQL. */
  pglite?: PGlite;
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
  /**
   * Embedded only: start from this dump of a data directory (PGlite's `dumpDataDir`) instead of an
   * empty database, so a scratch database (tests, benchmarks) skips initdb and the migrations.
   */
  template?: Blob;
  /** For the warning that a stale lock was taken over. */
  logLevel?: LogLevel;
  logFormat?: LogFormat | undefined;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<CatalogueDatabase> {
  return options.databaseUrl === undefined
    ? openEmbedded(options)
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
    copyOut: postgresCopyOut(pool),
    // With no parameters pg uses the simple query protocol, which accepts several statements.
    runScript: async (executor, script) => {
      await sql.raw(script).execute(executor);
    },
    close: () => db.destroy(),
  };
}

async function openEmbedded(options: OpenDatabaseOptions): Promise<CatalogueDatabase> {
  const { dataDir } = options;
  // `memory://` keeps the database in memory (tests); anything else is a directory on disk,
  // which one process at a time may open.
  const onDisk = !dataDir.startsWith('memory://');
  let lock: ReturnType<typeof lockDataDir> | undefined;
  let pglite: PGlite;
  try {
    if (onDisk) {
      await mkdir(dataDir, { recursive: true });
      await refuseUnwritableDataDir(dataDir);
      lock = lockDataDir(dataDir, (stale) => reportTakeOver(options, stale));
    }
    pglite = await PGlite.create(dataDir, options.template === undefined ? {} : { loadDataDir: options.template });
  } catch (error) {
    lock?.release();
    if (error instanceof DatabaseError) throw error;
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
    copyOut: pgliteCopyOut(pglite),
    pglite,
    // PGlite is one session, so exec() runs inside whatever transaction that session has open.
    runScript: async (_executor, script) => {
      await pglite.exec(script);
    },
    close: async () => {
      try {
        await db.destroy();
      } finally {
        lock?.release();
      }
    },
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

function reportTakeOver(options: OpenDatabaseOptions, stale: StaleLock): void {
  const logger = createLogger(options.logLevel ?? 'info', options.logFormat);
  const why =
    stale.holder === null
      ? 'its lock file was unreadable'
      : `its lock was left by ${describeHolder(stale.holder)}, which is no longer running`;
  logger.warn({ dataDir: options.dataDir, previous: stale.holder }, `took over the embedded database in ${options.dataDir}: ${why}`);
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  return describeDataDirFailure(error);
}
