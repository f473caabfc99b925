/** The records `refresh` re-fetches: active ones (and tombstones, when asked), checked longest ago first. */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

const PAGE_SIZE = 5_000;

export interface StaleSelection {
  /** Records last checked before this. */
  cutoff: Date;
  /** Tombstones too, so that one NCBI serves again is restored. */
  includeDeleted?: boolean;
}

/**
 * Streams PMIDs of records last checked before the cutoff, oldest first. Pages are read by
 * keyset, not offset: the run moves each record it handles past the cutoff, which would make
 * offsets skip records.
 */
export async function* stalePmids(db: Kysely<Database>, selection: StaleSelection, limit = Number.POSITIVE_INFINITY): AsyncGenerator<number> {
  let after: { checkedAt: Date; pmid: number } | undefined;
  let remaining = limit;
  while (remaining > 0) {
    let query = staleRecords(db, selection).select(['pmid', 'last_checked_at']);
    if (after !== undefined) {
      const { checkedAt, pmid } = after;
      query = query.where((eb) =>
        eb.or([eb('last_checked_at', '>', checkedAt), eb.and([eb('last_checked_at', '=', checkedAt), eb('pmid', '>', pmid)])]),
      );
    }
    const page = await query.orderBy('last_checked_at').orderBy('pmid').limit(Math.min(PAGE_SIZE, remaining)).execute();
    for (const row of page) yield row.pmid;
    if (page.length < PAGE_SIZE) return;
    const last = page[page.length - 1]!;
    after = { checkedAt: last.last_checked_at, pmid: last.pmid };
    remaining -= page.length;
  }
}

export async function countStale(db: Kysely<Database>, selection: StaleSelection): Promise<number> {
  const row = await staleRecords(db, selection)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

function staleRecords(db: Kysely<Database>, { cutoff, includeDeleted = false }: StaleSelection): SelectQueryBuilder<Database, 'catalogue_record', object> {
  const records = db.selectFrom('catalogue_record').where('last_checked_at', '<', cutoff);
  return includeDeleted ? records : records.where('status', '=', 'active');
}
