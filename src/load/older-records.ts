/**
 * Sources never undo each other: a PubMed record revised earlier than the one stored (NCBI's
 * DateRevised) is not applied. A record whose date is unknown, on either side, applies.
 */
import { sql, type Transaction } from 'kysely';
import { bigintArray, textArray } from './array-params.js';
import type { Backend } from './db.js';
import type { Database } from './schema.js';
import type { UpsertRow } from './upsert-row.js';

/** The PMIDs of `rows` whose stored active record was revised later than the row. */
export async function olderThanStored(trx: Transaction<Database>, backend: Backend, rows: readonly UpsertRow[]): Promise<Set<number>> {
  const dated = rows.filter((row) => row.pubmed_revised !== null);
  if (dated.length === 0) return new Set();
  const { rows: older } = await sql<{ pmid: number | string }>`
    SELECT c.pmid
    FROM unnest(${bigintArray(backend, dated.map((row) => row.pmid))}::bigint[], ${textArray(backend, dated.map((row) => row.pubmed_revised))}::text[])
      AS i(pmid, revised)
    JOIN catalogue_record c ON c.pmid = i.pmid
    WHERE c.status = 'active' AND c.pubmed_revised > i.revised::date
  `.execute(trx);
  return new Set(older.map((row) => Number(row.pmid)));
}
