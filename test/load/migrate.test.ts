import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { readMigrations, migrate } from '../../src/load/migrate.js';
import { DatabaseError } from '../../src/errors.js';
import { backends, type TestDatabase } from '../support/databases.js';

const TABLES = [
  'catalogue_record',
  'catalogue_record_version',
  'record_facet',
  'record_source',
  'record_mesh',
  'record_citation',
  'facet_count',
  'facet_count_change',
  'record_change',
  'etl_run',
  'missing_pmid',
  'saved_search',
  'schema_migrations',
  'ncbi_start_slot',
  'query_snapshot',
  'query_snapshot_chunk',
  'export_target',
  'import_file',
  'import_deletion',
];
const VIEWS = ['v_record', 'v_facet_counts', 'v_record_history', 'v_runs', 'v_record_changes'];

describe.each(backends)('migrations on $name', (backend) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  it('applies every sql/ file once, and nothing on a second run', async () => {
    database = await backend.open({ migrated: false });
    const files = await readMigrations();
    const first = await migrate(database);
    expect([...first.applied, ...first.skipped].sort()).toEqual(files.map((file) => file.name));
    const second = await migrate(database);
    expect(second).toEqual({ applied: [], skipped: [], alreadyApplied: files.length });
    const recorded = await database.db.selectFrom('schema_migrations').select('name').orderBy('version').execute();
    expect(recorded.map((row) => row.name)).toEqual(files.map((file) => file.name));
  });

  it('creates every table and analyst view of the design', async () => {
    database = await backend.open();
    const { rows } = await sql<{ name: string; kind: string }>`
      SELECT c.relname AS name, c.relkind AS kind FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v')`.execute(database.db);
    expect(rows.filter((row) => row.kind === 'r').map((row) => row.name).sort()).toEqual([...TABLES].sort());
    expect(rows.filter((row) => row.kind === 'v').map((row) => row.name).sort()).toEqual([...VIEWS].sort());
  });

  it('documents every table, view and column with a COMMENT', async () => {
    database = await backend.open();
    const { rows } = await sql<{ relation: string; column: string | null }>`
      SELECT c.relname AS relation, NULL AS column FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL
      UNION ALL
      SELECT c.relname, a.attname FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
        AND c.relname <> 'schema_migrations' AND col_description(c.oid, a.attnum) IS NULL`.execute(database.db);
    expect(rows).toEqual([]);
  });

  it('refuses to go on when an applied migration file was edited afterwards', async () => {
    database = await backend.open();
    const files = await readMigrations();
    const edited = files.map((file, index) => (index === 0 ? { ...file, checksum: 'edited' } : file));
    await expect(migrate(database, edited)).rejects.toThrow(DatabaseError);
    await expect(migrate(database, edited)).rejects.toThrow(/001_catalogue.sql was changed after it was applied/);
  });

  it('keeps a scheduled job from being claimed twice for one fire time or running twice at once', async () => {
    database = await backend.open();
    const { db } = database;
    const claim = (scheduledFor: string) =>
      db
        .insertInto('etl_run')
        .values({ job: 'refresh', scheduled_for: scheduledFor, replica: 'test:1' })
        .onConflict((conflict) => conflict.doNothing())
        .returning('id')
        .execute();
    expect(await claim('2026-01-01T03:00:00Z')).toHaveLength(1);
    expect(await claim('2026-01-01T03:00:00Z')).toHaveLength(0);
    // A later fire time while the first run is still running is refused too.
    expect(await claim('2026-01-02T03:00:00Z')).toHaveLength(0);
    await db.updateTable('etl_run').set({ status: 'succeeded' }).execute();
    expect(await claim('2026-01-02T03:00:00Z')).toHaveLength(1);
  });
});
