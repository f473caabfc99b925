/** Named exports (sql/017): where each one left off, so the same command again sends only what changed. */
import { sql, type Kysely } from 'kysely';
import { InputError } from '../errors.js';
import type { Database } from '../load/schema.js';
import type { ChangePosition } from './changes.js';
import { ISO_MICROSECONDS } from './entries.js';
import type { ExportFormat } from './formats.js';

export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The position after the last record delivered under `name`, or undefined on its first export. */
export async function readTarget(db: Kysely<Database>, name: string, format: ExportFormat): Promise<ChangePosition | undefined> {
  const row = await db
    .selectFrom('export_target')
    // With microseconds, finer than a JS Date: the position must not fall before the last record sent.
    .select(['format', 'changed_pmid', sql<string>`to_char(changed_until AT TIME ZONE 'UTC', ${ISO_MICROSECONDS})`.as('changed_until')])
    .where('name', '=', name)
    .executeTakeFirst();
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
  await db
    .insertInto('export_target')
    .values({ name, format, changed_until: position.changedAt, changed_pmid: position.pmid, records })
    .onConflict((conflict) =>
      conflict.column('name').doUpdateSet((update) => ({
        format: update.ref('excluded.format'),
        changed_until: update.ref('excluded.changed_until'),
        changed_pmid: update.ref('excluded.changed_pmid'),
        exported_at: sql<Date>`now()`,
        records: sql<number>`export_target.records + excluded.records`,
      })),
    )
    .execute();
}
