import type { Config } from '../config.js';
import { openDatabase } from '../load/db.js';
import { migrate } from '../load/migrate.js';
import type { Logger } from '../logger.js';
import { plural } from '../plural.js';

export async function runMigrateCommand(config: Config, logger: Logger): Promise<void> {
  const database = await openDatabase(config);
  try {
    const outcome = await migrate(database, undefined, (notice) => logger.debug(notice));
    const summary =
      outcome.applied.length === 0
        ? `schema up to date (${plural(outcome.alreadyApplied, 'migration')} already applied) in ${database.location}`
        : `applied ${outcome.applied.join(', ')} to ${database.location}`;
    process.stdout.write(`${summary}\n`);
  } finally {
    await database.close();
  }
}
