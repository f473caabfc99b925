/** The records `refresh` re-fetches: active ones, checked longest ago first. */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

const PAGE_SIZE = 5_000;

/**
 * Streams PMIDs of active records last checked before `cutoff`, oldest first. Pages are read by
 * keyset, not offset: the run moves each record it handles past the cutoff, which would make
 * offsets skip records.
 */
export async function* stalePmids(db: Kysely<Database>, cutoff: Date, limit = Number.POSITIVE_INFINITY): AsyncGenerator<number> {
  let after: { checkedAt: Date; pmid: number } | undefined;
  let remaining = limit;
  while (remaining > 0) {
    let query = db
      .selectFrom('catalogue_record')
      .select(['pmid', 'last_checked_at'])
      .where('status', '=', 'active')
      .where('last_checked_at', '<', cutoff);
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

export async function countStale(db: Kysely<Database>, cutoff: Date): Promise<number> {
  const row = await db
    .selectFrom('catalogue_record')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('status', '=', 'active')
    .where('last_checked_at', '<', cutoff)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
