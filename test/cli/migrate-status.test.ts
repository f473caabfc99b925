import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/load/migrate.js';
import { backends, postgresBackend, type TestDatabase } from '../support/databases.js';
import { runCli } from '../support/cli.js';

describe.each(backends)('pubcat migrate and status on $name', (backend) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('migrates, then finds nothing to apply on the second run', async () => {
    database = await backend.open({ migrated: false, onDisk: true });
    const env = database.env;
    const [unmigratedShow, first, second] = await database.whileDetached(async () => [
      await runCli(['show', '31810187'], env),
      await runCli(['migrate'], env),
      await runCli(['migrate'], env),
    ]);
    expect(unmigratedShow.code).toBe(1);
    expect(unmigratedShow.stderr).toBe('pubcat: PMID 31810187 is not in the catalogue (load it with `pubcat backfill 31810187`)\n');
    expect(first.stderr).not.toMatch(/pubcat:/);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied 001_catalogue\.sql, 002_analyst_views\.sql/);
    expect(second.code).toBe(0);
    const files = await readMigrations();
    expect(second.stdout).toMatch(new RegExp(`^schema up to date \\(${files.length} migrations already applied\\)`));
    const tables = await database.db.selectFrom('schema_migrations').select('name').execute();
    expect(tables).toHaveLength(files.length);
  });

  it('says the catalogue is empty on a new database, in text and JSON', async () => {
    database = await backend.open({ onDisk: true });
    const env = database.env;
    const [text, json] = await database.whileDetached(async () => [
      await runCli(['status'], env),
      await runCli(['status', '--json'], env),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('records   none yet: the catalogue is empty');
    expect(text.stdout).toContain('runs      none yet');
    expect(JSON.parse(json.stdout)).toMatchObject({
      backend: backend.name,
      migrated: true,
      records: { active: 0, deleted: 0 },
      missing_pmids: { count: 0, recent: [] },
      runs: [],
    });
  });
});

describe('pubcat with a bad environment', () => {
  it('exits non-zero with one clear line for DATABASE_URL=not-a-url', async () => {
    const result = await runCli(['status'], { DATABASE_URL: 'not-a-url' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'pubcat: DATABASE_URL="not-a-url" is not valid: expected a postgres:// or postgresql:// URL, or unset for the embedded database\n',
    );
  });

  it('names the server it cannot reach, without the password', async () => {
    const result = await runCli(['status'], { DATABASE_URL: 'postgres://app:hunter2@127.0.0.1:1/catalogue' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pubcat: cannot connect to PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/catalogue: .+\n$/);
    expect(result.stderr).not.toContain('hunter2');
  });
});

describe.skipIf(postgresBackend === undefined)('PostgreSQL only', () => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('applies each migration once when two pubcat migrate run at the same time', async () => {
    database = await postgresBackend!.open({ migrated: false });
    const results = await Promise.all([runCli(['migrate'], database.env), runCli(['migrate'], database.env)]);
    expect(results.map((result) => result.code)).toEqual([0, 0]);
    // Each file is applied by whichever process reaches it first; together they apply each once.
    const appliedBy = results.flatMap((result) => /^applied (.+) to /.exec(result.stdout)?.[1]?.split(', ') ?? []);
    const files = (await readMigrations()).map((file) => file.name);
    expect(appliedBy.sort()).toEqual(files.sort());
    expect(new Set(appliedBy).size).toBe(appliedBy.length);
    const rows = await database.db.selectFrom('schema_migrations').select('version').orderBy('version').execute();
    expect(rows.map((row) => row.version)).toEqual((await readMigrations()).map((file) => file.version));
  });

  it('lets pubcat_reader read the views and nothing else', async () => {
    database = await postgresBackend!.open();
    const readerUrl = new URL(database.env.DATABASE_URL!);
    readerUrl.username = 'pubcat_reader';
    readerUrl.password = '';
    const reader = new pg.Client({ connectionString: readerUrl.toString() });
    await reader.connect();
    try {
      const { rows } = await reader.query('SELECT count(*)::int AS n FROM v_record');
      expect(rows).toEqual([{ n: 0 }]);
      await expect(
        reader.query(`INSERT INTO catalogue_record (pmid, catalogue_id, content_hash, record) VALUES (1, 'pmid-1', 'x', '{}')`),
      ).rejects.toThrow(/permission denied for table catalogue_record/);
      await expect(reader.query('SELECT * FROM catalogue_record')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
  });
});
