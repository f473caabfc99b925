/** `pubcat search add NAME QUERY | list | remove NAME`: the saved searches that sync runs. */
import type { Config } from '../config.js';
import { addSavedSearch, listSavedSearches, removeSavedSearch, type SavedSearch } from '../load/saved-searches.js';
import { snakeCaseKeys } from '../json-keys.js';
import type { Logger } from '../logger.js';
import { formatTime } from '../time-format.js';
import { openMigratedDatabase } from './run-support.js';

export async function runSearchAddCommand(name: string, query: string, config: Config, logger: Logger): Promise<void> {
  const database = await openMigratedDatabase(config, logger);
  try {
    const search = await addSavedSearch(database.db, name, query);
    process.stdout.write(`saved search ${search.name} added: ${search.query} (the next sync loads all of its hits)\n`);
  } finally {
    await database.close();
  }
}

export async function runSearchRemoveCommand(name: string, config: Config, logger: Logger): Promise<void> {
  const database = await openMigratedDatabase(config, logger);
  try {
    await removeSavedSearch(database.db, name);
    process.stdout.write(`saved search ${name} removed (its records stay in the catalogue)\n`);
  } finally {
    await database.close();
  }
}

export async function runSearchListCommand(options: { json?: boolean }, config: Config, logger: Logger): Promise<void> {
  const database = await openMigratedDatabase(config, logger);
  try {
    const searches = await listSavedSearches(database.db);
    process.stdout.write(options.json === true ? `${JSON.stringify(snakeCaseKeys(searches))}\n` : formatSearches(searches));
  } finally {
    await database.close();
  }
}

export function formatSearches(searches: SavedSearch[]): string {
  if (searches.length === 0) return 'no saved searches (add one with `pubcat search add NAME QUERY`)\n';
  const rows = [
    ['name', 'synced until', 'last run', 'query'],
    ...searches.map((search) => [
      search.name,
      search.syncedUntil === null ? 'never' : formatTime(search.syncedUntil),
      search.lastRunId === null ? '-' : String(search.lastRunId),
      search.query,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}
