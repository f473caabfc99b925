import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigintArray, intArray, textArray } from '../../src/load/array-params.js';
import { backends, type TestDatabase } from '../support/databases.js';

describe.each(backends)('array parameters on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.open({ migrated: false });
  });
  afterAll(() => database.close());

  async function unnested<T>(param: unknown, type: string): Promise<T[]> {
    const { rows } = await sql<{ value: T; position: number }>`
      SELECT value, position FROM unnest(${param}::${sql.raw(type)}) WITH ORDINALITY AS t(value, position) ORDER BY position
    `.execute(database.db);
    return rows.map((row) => row.value);
  }

  it('carries text of any script, quotes, backslashes, empty strings and nulls unchanged', async () => {
    const values = ['Iacobaeus, Ellen', '', null, 'α-synuclein “quoted” \\ back\\slash "double" {braces}', '<a b="1">&amp;</a>\n\ttab', '😀 κ ü'];
    expect(await unnested(textArray(database.backend, values), 'text[]')).toEqual(values);
  });

  it('carries bigint and int values, with nulls where int columns have none', async () => {
    expect(await unnested(bigintArray(database.backend, [1, 31810187, 9_007_199_254_740_991]), 'bigint[]')).toEqual([1, 31810187, 9_007_199_254_740_991]);
    expect(await unnested(intArray(database.backend, [2019, null, -1]), 'int[]')).toEqual([2019, null, -1]);
  });

  it('turns empty arrays into no rows', async () => {
    expect(await unnested(textArray(database.backend, []), 'text[]')).toEqual([]);
    expect(await unnested(bigintArray(database.backend, []), 'bigint[]')).toEqual([]);
    expect(await unnested(intArray(database.backend, []), 'int[]')).toEqual([]);
  });
});
