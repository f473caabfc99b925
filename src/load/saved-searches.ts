/**
 * Saved searches: named PubMed queries that `pubcat sync` runs for new and modified records, each
 * with the end of the modification-date window it has loaded so far (`synced_until`).
 */
import type { Kysely } from 'kysely';
import { InputError } from '../errors.js';
import type { Executor } from './runs.js';
import type { Database } from './schema.js';

export interface SavedSearch {
  name: string;
  query: string;
  createdAt: Date;
  /** Null until the first sync of this search has loaded all of its hits. */
  syncedUntil: Date | null;
  lastRunId: number | null;
}

/** The same rule as the table's CHECK, so a bad name is refused with a message, not an SQL error. */
export const SAVED_SEARCH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A name is typed on the command line; the bound also keeps it far inside the primary key's index limit. */
export const MAX_SAVED_SEARCH_NAME = 64;
/** Past this a query is not something PubMed answers usefully, and the table prints it on one line. */
export const MAX_SAVED_QUERY = 4_000;

export async function addSavedSearch(db: Kysely<Database>, name: string, query: string): Promise<SavedSearch> {
  if (!SAVED_SEARCH_NAME.test(name) || name.length > MAX_SAVED_SEARCH_NAME) {
    const shown = name.length > 40 ? `${name.slice(0, 40)}… (${name.length} characters)` : name;
    throw new InputError(
      `"${shown}" is not a saved search name: use up to ${MAX_SAVED_SEARCH_NAME} letters, digits, dots, dashes or underscores, starting with a letter or digit`,
      { input: name },
    );
  }
  // PubMed reads line breaks and runs of spaces in a query as one space; so does the stored query.
  const normalized = query.replace(/\s+/g, ' ').trim();
  if (normalized === '') throw new InputError(`saved search ${name}: the query is empty`, { input: query });
  if (normalized.length > MAX_SAVED_QUERY) {
    throw new InputError(`saved search ${name}: the query has ${normalized.length} characters, more than the ${MAX_SAVED_QUERY} allowed`, { input: name });
  }
  const row = await db
    .insertInto('saved_search')
    .values({ name, query: normalized })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) {
    const existing = await db.selectFrom('saved_search').select('query').where('name', '=', name).executeTakeFirst();
    throw new InputError(`a saved search named ${name} already exists (query: ${existing?.query ?? '?'}); remove it first to change it`, {
      input: name,
    });
  }
  return toSavedSearch(row);
}

/** Every saved search, oldest first: the order sync works through them. */
export async function listSavedSearches(db: Executor): Promise<SavedSearch[]> {
  const rows = await db.selectFrom('saved_search').selectAll().orderBy('created_at').orderBy('name').execute();
  return rows.map(toSavedSearch);
}

export async function removeSavedSearch(db: Kysely<Database>, name: string): Promise<void> {
  const removed = await db.deleteFrom('saved_search').where('name', '=', name).executeTakeFirst();
  if (removed.numDeletedRows === 0n) {
    const known = (await listSavedSearches(db)).map((search) => search.name);
    const hint = known.length === 0 ? 'there are none' : `known: ${known.join(', ')}`;
    throw new InputError(`no saved search named ${name} (${hint})`, { input: name });
  }
}

/** Moves a search's window end after a sync loaded everything it found up to `until`. */
export async function recordSearchSynced(executor: Executor, name: string, until: Date, runId: number): Promise<void> {
  await executor.updateTable('saved_search').set({ synced_until: until, last_run_id: runId }).where('name', '=', name).execute();
}

function toSavedSearch(row: {
  name: string;
  query: string;
  created_at: Date;
  synced_until: Date | null;
  last_run_id: number | string | null;
}): SavedSearch {
  return {
    name: row.name,
    query: row.query,
    createdAt: row.created_at,
    syncedUntil: row.synced_until,
    lastRunId: row.last_run_id === null ? null : Number(row.last_run_id),
  };
}
