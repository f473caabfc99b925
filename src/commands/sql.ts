/**
 * `pubcat sql [--port N]`: serves the embedded database on 127.0.0.1 over PostgreSQL's wire
 * protocol (PGlite's socket server), so that psql and analyst tools reach the default install.
 * PGlite lives inside one process, so this process holds the data directory's lock while it
 * serves, like any other command, and gives it back when SIGINT or SIGTERM stops it.
 */
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { redactUrl, type Config } from '../config.js';
import { ConfigError, InputError } from '../errors.js';
import type { Logger } from '../logger.js';
import { openMigratedDatabase } from './run-support.js';

/**
 * Clients share the one PGlite session: their statements run one at a time, and while one of them
 * is inside a transaction the others wait for it to end.
 */
const MAX_CLIENTS = 10;

export interface SqlCommandOptions {
  port: number;
}

export async function runSqlCommand(options: SqlCommandOptions, config: Config, logger: Logger): Promise<void> {
  if (config.databaseUrl !== undefined) {
    const location = redactUrl(config.databaseUrl);
    throw new ConfigError(`nothing to serve: DATABASE_URL points pubcat at the PostgreSQL server ${location}; connect psql to it directly`, {
      input: location,
    });
  }
  const database = await openMigratedDatabase(config, logger);
  try {
    const server = new PGLiteSocketServer({ db: database.pglite!, host: '127.0.0.1', port: options.port, maxConnections: MAX_CLIENTS });
    await startServer(server, options.port);
    // The server speaks no TLS, and libpq's default (sslmode=prefer) waits for it for ever.
    const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
    process.stdout.write(`serving the embedded database in ${database.location} at ${url}\n  psql '${url}'   (Ctrl-C stops it)\n`);
    const signal = await untilStopped();
    logger.info({ signal }, 'stopping the SQL server');
    await server.stop();
  } finally {
    await database.close();
  }
}

/**
 * The socket server reports a failure to listen only as an `error` event (its start() then never
 * settles), so the two are raced.
 */
async function startServer(server: PGLiteSocketServer, port: number): Promise<void> {
  let onError: ((event: Event) => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onError = (event) => reject((event as CustomEvent<unknown>).detail);
      server.addEventListener('error', onError);
      server.start().then(resolve, reject);
    });
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const why = code === 'EADDRINUSE' ? 'is in use' : 'may not be opened by this user';
      throw new InputError(`port ${port} on 127.0.0.1 ${why}: choose another with --port N (0: any free port)`, { input: port, cause: error });
    }
    throw error;
  } finally {
    server.removeEventListener('error', onError!);
  }
}

/** Resolves with the first SIGINT or SIGTERM: serving until then is the command's work, so it exits 0. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
