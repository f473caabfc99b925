/**
 * Opens the catalogue database: PostgreSQL through a pg Pool when DATABASE_URL is set, else the
 * embedded PGlite stored in PUBCAT_DATA_DIR. Both speak the same SQL; the few places where they
 * differ (multi-statement scripts, roles, several connections) ask `backend`.
 */
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { redactUrl } from '../config.js';
import { DatabaseError } from '../errors.js';
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

export interface OpenDatabaseOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** pg Pool size; PGlite has a single connection whatever this says. */
  poolSize?: number;
}

const PG_INT8_OID = 20;

export async function openDatabase(options: OpenDatabaseOptions): Promise<CatalogueDatabase> {
  return options.databaseUrl === undefined
    ? openEmbedded(options.dataDir)
    : openPostgres(options.databaseUrl, options.poolSize ?? 10);
}

async function openPostgres(databaseUrl: string, poolSize: number): Promise<CatalogueDatabase> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    application_name: 'pubcat',
    // PMIDs and run ids are bigint columns well inside Number's exact range.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const location = redactUrl(databaseUrl);
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end();
    throw new DatabaseError(`cannot connect to PostgreSQL at ${location}: ${describe(error)}`, {
      input: location,
      cause: error,
    });
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    backend: 'postgres',
    location,
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

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describe(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}
