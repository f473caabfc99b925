/**
 * The unchanged records of a batch rebuilt from stored XML (`pubcat retransform`). Nothing was
 * checked against NCBI, so last_checked_at and the miss streaks stay as they are; a record whose
 * content the new transform leaves as it was only notes the version that rebuilt it, so that
 * `--outdated` does not pick it again. A record already at that version writes nothing, and
 * when the source read its content hash with its XML the transform worker drops it and it costs
 * no statement either (transform-batch.ts).
 */
import { sql, type Transaction } from 'kysely';
import { bigintArray, intArray, textArray } from './array-params.js';
import type { Backend } from './db.js';
import type { Database } from './schema.js';
import type { UpsertRow } from './upsert-row.js';

export async function settleRebuiltUnchanged(trx: Transaction<Database>, backend: Backend, rows: readonly UpsertRow[]): Promise<Set<number>> {
  const { rows: unchanged } = await sql<{ pmid: number | string }>`
    WITH input AS (
      SELECT * FROM unnest(${bigintArray(backend, rows.map((row) => row.pmid))}::bigint[],
        ${textArray(backend, rows.map((row) => row.content_hash))}::text[],
        ${intArray(backend, rows.map((row) => row.transform_version))}::int[]) AS t(pmid, content_hash, transform_version)
    ),
    unchanged AS (
      SELECT c.pmid, c.transform_version AS stored_version, i.transform_version
      FROM catalogue_record c JOIN input i ON c.pmid = i.pmid
      WHERE c.content_hash = i.content_hash AND c.status = 'active'
    ),
    restamped AS (
      UPDATE catalogue_record c SET transform_version = u.transform_version
      FROM unchanged u WHERE c.pmid = u.pmid AND u.stored_version <> u.transform_version
    )
    SELECT pmid FROM unchanged
  `.execute(trx);
  return new Set(unchanged.map((row) => Number(row.pmid)));
}
