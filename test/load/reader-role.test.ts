/**
 * What pubcat_reader may do, logged in as itself (SET ROLE would keep the session's own rights).
 * The role is the server's, shared by every test database; the grants these tests look at belong
 * to each database, so test files running at once do not see each other's.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type CatalogueDatabase } from '../../src/load/db.js';
import { migrate } from '../../src/load/migrate.js';
import { startOrResumeRun } from '../../src/load/runs.js';
import { withDatabaseName } from '../support/admin-client.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';

/** The key pubcat's migrations once locked on: the reader holding it stalled every command. */
const FORMER_MIGRATION_LOCK_KEY = 7_041_992_517;

function loginAs(url: string, role: string): Promise<pg.Client> {
  const roleUrl = new URL(url);
  roleUrl.username = role;
  roleUrl.password = '';
  const client = new pg.Client({ connectionString: roleUrl.toString() });
  return client.connect().then(() => client);
}

/** Rejects when `work` takes longer than `ms`: what a stalled lock looks like. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(postgresBackend === undefined)('pubcat_reader on PostgreSQL', () => {
  // Migrated by the test server's superuser, which also creates pubcat_reader if no test did yet.
  // Migrated here, not copied from the migrated template: a database's own privileges (TEMPORARY)
  // live in the server's catalogue, which CREATE DATABASE … TEMPLATE does not copy.
  let database: TestDatabase;
  let reader: pg.Client;
  beforeAll(async () => {
    database = await postgresBackend!.open({ migrated: false });
    await migrate(database);
    reader = await loginAs(database.env.DATABASE_URL!, 'pubcat_reader');
  });
  afterAll(async () => {
    await reader?.end();
    await database?.close();
  });

  it('still reads the views', async () => {
    const { rows } = await reader.query('SELECT count(*)::int AS n FROM v_record');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('cannot take advisory locks, in any form', async () => {
    await expect(reader.query(`SELECT pg_advisory_lock(${FORMER_MIGRATION_LOCK_KEY})`)).rejects.toThrow(
      /permission denied for function pg_advisory_lock/,
    );
    await expect(reader.query('SELECT pg_try_advisory_xact_lock(1, 2)')).rejects.toThrow(/permission denied for function pg_try_advisory_xact_lock/);
    await expect(reader.query('SELECT pg_advisory_lock_shared(1)')).rejects.toThrow(/permission denied for function pg_advisory_lock_shared/);
  });

  it('cannot create temporary tables', async () => {
    await expect(reader.query('CREATE TEMP TABLE scratch (x int)')).rejects.toThrow(/permission denied to create temporary tables/);
  });

  it('cannot create large objects', async () => {
    await expect(reader.query('SELECT lo_create(0)')).rejects.toThrow(/permission denied for function lo_create/);
    await expect(reader.query(`SELECT lo_from_bytea(0, 'x')`)).rejects.toThrow(/permission denied for function lo_from_bytea/);
  });

  it('cannot take the locks pubcat queues its migrations and run starts on', async () => {
    await reader.query('BEGIN');
    try {
      await expect(reader.query('LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.query('ROLLBACK');
    }
    await reader.query('BEGIN');
    try {
      await expect(reader.query('LOCK TABLE etl_run IN SHARE UPDATE EXCLUSIVE MODE')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.query('ROLLBACK');
    }
  });

  describe('where pubcat runs as a plain owner role, which cannot revoke advisory locks', () => {
    const serverUrl = process.env.TEST_DATABASE_URL!;
    const suffix = randomBytes(6).toString('hex');
    const owner = `pubcat_owner_${suffix}`;
    const name = `pubcat_test_owner_${suffix}`;
    let admin: pg.Client;
    let owned: CatalogueDatabase;
    let ownedReader: pg.Client;
    beforeAll(async () => {
      admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`CREATE ROLE ${owner} LOGIN`);
      await admin.query(`CREATE DATABASE ${name} OWNER ${owner}`);
      const ownerUrl = new URL(withDatabaseName(serverUrl, name));
      ownerUrl.username = owner;
      owned = await openDatabase({ databaseUrl: ownerUrl.toString(), dataDir: 'unused' });
      await migrate(owned);
      ownedReader = await loginAs(withDatabaseName(serverUrl, name), 'pubcat_reader');
    });
    afterAll(async () => {
      await ownedReader?.end();
      await owned?.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS ${owner}`);
      await admin.end();
    });

    it('lets pubcat migrate and start runs while the reader holds every advisory lock pubcat used to take', async () => {
      const inputKey = 'reader-holds-the-key';
      // A plain role cannot revoke what PUBLIC may run in pg_catalog: the reader still takes these.
      await ownedReader.query('SELECT pg_advisory_lock($1), pg_advisory_lock(hashtext($2))', [FORMER_MIGRATION_LOCK_KEY, `pubcat-run:${inputKey}`]);
      // An analyst's open transaction reading the runs.
      await ownedReader.query('BEGIN');
      await ownedReader.query('SELECT count(*) FROM v_runs');
      try {
        const outcome = await within(10_000, migrate(owned));
        expect(outcome.applied).toEqual([]);
        const run = await within(10_000, startOrResumeRun(owned.db, { job: 'backfill', inputKey, params: {} }));
        expect(run).toMatchObject({ job: 'backfill', resumed: false });
      } finally {
        await ownedReader.query('ROLLBACK');
        await ownedReader.query('SELECT pg_advisory_unlock_all()');
      }
    });

    it('keeps the reader from creating temporary tables, the database owner revoking them', async () => {
      await expect(ownedReader.query('CREATE TEMP TABLE scratch (x int)')).rejects.toThrow(/permission denied to create temporary tables/);
    });
  });
});
