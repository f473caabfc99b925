/** `pubcat restore --run N [--json]`: undo the tombstones run N wrote. */
import type { Config } from '../config.js';
import { restoreRunTombstones, type RestoreResult } from '../load/restore.js';
import type { Logger } from '../logger.js';
import { openMigratedDatabase } from './run-support.js';

export interface RestoreCommandOptions {
  run: number;
  json?: boolean;
}

export async function runRestoreCommand(options: RestoreCommandOptions, config: Config, logger: Logger): Promise<void> {
  const database = await openMigratedDatabase(config, logger);
  try {
    const result = await restoreRunTombstones(database.db, options.run);
    process.stdout.write(options.json === true ? `${JSON.stringify(restoreSummary(result))}\n` : `${restoreLine(result)}\n`);
  } finally {
    await database.close();
  }
}

function restoreSummary(result: RestoreResult): Record<string, number | string> {
  return {
    run_id: result.runId,
    job: result.job,
    tombstones: result.tombstones,
    restored: result.restored.length,
    already_restored: result.alreadyRestored,
    changed_since: result.changedSince,
  };
}

function restoreLine(result: RestoreResult): string {
  const already = result.alreadyRestored === 0 ? '' : `, ${result.alreadyRestored} restored before`;
  const changed = result.changedSince === 0 ? '' : `, ${result.changedSince} left alone (changed since)`;
  return `restore of ${result.job} run ${result.runId}: ${result.tombstones} tombstoned, ${result.restored.length} restored${already}${changed}`;
}
