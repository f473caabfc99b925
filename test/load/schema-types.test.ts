import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/load/schema.js';
import { backends, type TestDatabase } from '../support/databases.js';

/**
 * The columns src/load/schema.ts gives the analysts' tables and views and the export's table. The
 * compiler holds each list to its type (no column missing, none extra); the test holds it to the
 * migrated database.
 */
const typed = <T extends keyof Database>(columns: Record<keyof Database[T], true>): string[] => Object.keys(columns);
const TYPED_COLUMNS: Partial<Record<keyof Database, string[]>> = {
  record_mesh: typed<'record_mesh'>({ pmid: true, heading: true, descriptor: true, descriptor_ui: true, qualifier: true, qualifier_ui: true, major_topic: true }),
  record_citation: typed<'record_citation'>({ pmid: true, journal_abbreviation: true, pages: true }),
  export_target: typed<'export_target'>({ name: true, format: true, changed_until: true, changed_pmid: true, exported_at: true, records: true }),
  facet_count: typed<'facet_count'>({ facet: true, value: true, records: true }),
  facet_count_change: typed<'facet_count_change'>({ facet: true, value: true, records: true }),
  record_change: typed<'record_change'>({ pmid: true, version: true, op: true, changed_at: true, run_id: true, field: true, old_value: true, new_value: true }),
  v_record: typed<'v_record'>({
    pmid: true, catalogue_id: true, status: true, version: true, title: true, journal: true, publish_year: true, doi: true, pmcid: true,
    authors: true, languages: true, abstract: true, first_seen_at: true, last_changed_at: true, last_checked_at: true, record: true,
    derived: true, journal_abbreviation: true, issn: true, volume: true, issue: true, pages: true, publish_date: true,
    publication_types: true, search_text: true,
  }),
  v_facet_counts: typed<'v_facet_counts'>({ facet: true, value: true, records: true }),
  v_record_history: typed<'v_record_history'>({
    pmid: true, version: true, op: true, changed_at: true, changed_fields: true, catalogue_id: true, run_id: true, job: true, record: true, reason: true,
  }),
  v_record_changes: typed<'v_record_changes'>({ pmid: true, version: true, op: true, changed_at: true, run_id: true, field: true, old_value: true, new_value: true }),
  v_runs: typed<'v_runs'>({
    id: true, job: true, status: true, scheduled_for: true, started_at: true, finished_at: true, duration: true, requested: true,
    inserted: true, updated: true, unchanged: true, deleted: true, missing: true, failed: true, invalid: true, older: true, replica: true, error: true,
  }),
};

describe.each(backends)('the typed schema on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });

  it('names the columns the migrations give the analysts\' tables and views', async () => {
    const { rows } = await sql<{ table_name: string; column_name: string }>`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = ANY (${sql.raw(`ARRAY[${Object.keys(TYPED_COLUMNS).map((name) => `'${name}'`).join(', ')}]`)})`.execute(database.db);
    const migrated: Record<string, string[]> = {};
    for (const row of rows) (migrated[row.table_name] ??= []).push(row.column_name);
    const sorted = (columns: Partial<Record<string, string[]>>) => Object.fromEntries(Object.entries(columns).map(([table, names]) => [table, [...names!].sort()]));
    expect(sorted(migrated)).toEqual(sorted(TYPED_COLUMNS));
  });
});
