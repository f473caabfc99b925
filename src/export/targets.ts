/** Named exports (sql/017): where each one left off, so the same command again sends only what changed. */
import { sql, type Kysely } from 'kysely';
import { InputError } from '../errors.js';
import type { Database } from '../load/schema.js';
import type { ChangePosition } from './changes.js';
import type { ExportFormat } from './formats.js';

export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The position after the last record delivered under `name`, or undefined on its first export. */
export async function readTarget(db: Kysely<Database>, name: string, format: ExportFormat): Promise<ChangePosition | undefined> {
  const { rows } = await sql<{ format: ExportFormat; changed_until: string; changed_pmid: number | string }>`
    SELECT format, to_char(changed_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS changed_until, changed_pmid
    FROM export_target WHERE name = ${name}`.execute(db);
  const row = rows[0];
  if (row === undefined) return undefined;
  // The position says what the index downstream already holds; a file in another format does not hold it.
  if (row.format !== format) {
    throw new InputError(`export target ${name} receives ${row.format}, not ${format}: use --format ${row.format}, or another target name`, {
      input: name,
    });
  }
  return { changedAt: row.changed_until, pmid: Number(row.changed_pmid) };
}

export async function saveTarget(db: Kysely<Database>, name: string, format: ExportFormat, position: ChangePosition, records: number): Promise<void> {
  await sql`
    INSERT INTO export_target (name, format, changed_until, changed_pmid, records)
    VALUES (${name}, ${format}, ${position.changedAt}::timestamptz, ${position.pmid}::bigint, ${records})
    ON CONFLICT (name) DO UPDATE SET format = excluded.format, changed_until = excluded.changed_until,
      changed_pmid = excluded.changed_pmid, exported_at = now(), records = export_target.records + excluded.records`.execute(db);
}
