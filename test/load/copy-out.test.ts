import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryCopyRows } from '../../src/load/copy-out.js';
import { backends, type TestDatabase } from '../support/databases.js';

describe.each(backends)('binary COPY out on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.open({ migrated: false });
  });
  afterAll(async () => {
    await database.close();
  });

  it('hands over each value as the bytes PostgreSQL wrote, and NULL as null', async () => {
    const rows = binaryCopyRows(await database.copyOut(`SELECT 'Ångström "quoted" \\ back'::text, NULL::text UNION ALL SELECT '{"a": [1]}'::jsonb::text, ''`));
    expect(rows.map((row) => row.map((value) => value?.toString('utf8') ?? null))).toEqual([
      ['Ångström "quoted" \\ back', null],
      ['{"a": [1]}', ''],
    ]);
    expect(binaryCopyRows(await database.copyOut('SELECT 1::text WHERE false'))).toEqual([]);
  });

  it('reports a query PostgreSQL refuses, and goes on working', async () => {
    await expect(database.copyOut('SELECT no_such_column FROM pg_class')).rejects.toThrow(/no_such_column/);
    expect(binaryCopyRows(await database.copyOut('SELECT 2::text'))).toEqual([[Buffer.from('2')]]);
  });
});
