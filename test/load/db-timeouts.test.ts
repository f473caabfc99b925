import { createServer, type Server, type Socket } from 'node:net';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DatabaseError } from '../../src/errors.js';
import { openDatabase, type CatalogueDatabase } from '../../src/load/db.js';
import { migrate } from '../../src/load/migrate.js';
import { postgresBackend, type TestDatabase } from '../support/databases.js';
import { runCli } from '../support/cli.js';

/** AuthenticationOk then ReadyForQuery: what a trust-auth server says to a startup message. */
const STARTUP_ANSWER = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0, 0x5a, 0, 0, 0, 5, 0x49]);

interface FakeServer {
  port: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that accepts connections and, at most, answers the startup message. */
async function unresponsiveServer(answersStartup: boolean): Promise<FakeServer> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    if (answersStartup) socket.once('data', () => socket.write(STARTUP_ANSWER));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function unusedPort(): Promise<number> {
  const server = await unresponsiveServer(false);
  await server.close();
  return server.port;
}

async function errorOf(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the work to fail');
}

describe('pubcat status against a server that cannot be used', () => {
  let server: FakeServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('exits 1 with one line saying the connection was refused when nothing listens on the port', async () => {
    const port = await unusedPort();
    const result = await runCli(['status'], { DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${port}/catalogue` });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `pubcat: cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:${port}/catalogue: ` +
        `connection refused (connect ECONNREFUSED 127.0.0.1:${port}): is the server running and listening there?\n`,
    );
  });

  it('gives up after PUBCAT_DB_CONNECT_TIMEOUT on a server that accepts the connection and never answers', async () => {
    server = await unresponsiveServer(false);
    const started = Date.now();
    const result = await runCli(['status'], { DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${server.port}/catalogue`, PUBCAT_DB_CONNECT_TIMEOUT: '1' });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `pubcat: cannot connect to PostgreSQL at postgres://app:***@127.0.0.1:${server.port}/catalogue: ` +
        'the server did not complete the connection within 1 s (PUBCAT_DB_CONNECT_TIMEOUT raises this limit)\n',
    );
    // Well under the 10 s default, with room for a busy machine to start node.
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThan(8);
  });

  it('stops waiting for a statement the server never answers, 2 s after PUBCAT_DB_STATEMENT_TIMEOUT', async () => {
    server = await unresponsiveServer(true);
    const started = Date.now();
    const result = await runCli(['status'], { DATABASE_URL: `postgres://app@127.0.0.1:${server.port}/catalogue`, PUBCAT_DB_STATEMENT_TIMEOUT: '1' });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `pubcat: PostgreSQL at postgres://app@127.0.0.1:${server.port}/catalogue did not answer a statement within 3 s ` +
        '(its statement timeout plus 2 s): the server is hung or unreachable (PUBCAT_DB_STATEMENT_TIMEOUT raises the limit)\n',
    );
    expect(seconds).toBeGreaterThanOrEqual(3);
    expect(seconds).toBeLessThan(10);
  });
});

describe('PUBCAT_DB_*_TIMEOUT', () => {
  it('defaults to 10 s to connect, 300 s per statement and 300 s idle in a transaction; 0 lifts the server-side limits', () => {
    expect(loadConfig({}).databaseTimeouts).toEqual({ connectSeconds: 10, statementSeconds: 300, idleTransactionSeconds: 300 });
    expect(loadConfig({ PUBCAT_DB_STATEMENT_TIMEOUT: '0', PUBCAT_DB_IDLE_TX_TIMEOUT: '0', PUBCAT_DB_CONNECT_TIMEOUT: '' }).databaseTimeouts).toEqual({
      connectSeconds: 10,
      statementSeconds: 0,
      idleTransactionSeconds: 0,
    });
  });

  it('refuses a value that is not whole seconds in range, naming the variable', () => {
    expect(() => loadConfig({ PUBCAT_DB_CONNECT_TIMEOUT: '0' })).toThrow(
      'PUBCAT_DB_CONNECT_TIMEOUT="0" is not valid: expected a whole number of seconds from 1 to 3600',
    );
    expect(() => loadConfig({ PUBCAT_DB_STATEMENT_TIMEOUT: '2.5' })).toThrow(
      'PUBCAT_DB_STATEMENT_TIMEOUT="2.5" is not valid: expected a whole number of seconds from 0 (no limit) to 86400',
    );
    expect(() => loadConfig({ PUBCAT_DB_IDLE_TX_TIMEOUT: '1m' })).toThrow(
      'PUBCAT_DB_IDLE_TX_TIMEOUT="1m" is not valid: expected a whole number of seconds from 0 (no limit) to 86400',
    );
  });
});

describe.skipIf(postgresBackend === undefined)('timeouts on PostgreSQL', () => {
  let scratch: TestDatabase | undefined;
  let database: CatalogueDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
    await scratch?.close();
    scratch = undefined;
  });

  /** A fresh database opened with one-second statement and idle limits. */
  async function openWithShortLimits(): Promise<CatalogueDatabase> {
    scratch = await postgresBackend!.open({ migrated: false });
    database = await openDatabase({
      databaseUrl: scratch.env.DATABASE_URL,
      dataDir: 'unused',
      databaseTimeouts: { connectSeconds: 5, statementSeconds: 1, idleTransactionSeconds: 1 },
    });
    return database;
  }

  it('cancels a statement that runs past PUBCAT_DB_STATEMENT_TIMEOUT with a DatabaseError naming the limit', async () => {
    const { db, location } = await openWithShortLimits();
    const error = await errorOf(sql`SELECT pg_sleep(5)`.execute(db));
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toBe(
      `PostgreSQL at ${location} cancelled a statement after 1 s, its statement timeout (PUBCAT_DB_STATEMENT_TIMEOUT raises it; 0 removes it)`,
    );
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });

  it('ends a transaction left idle past PUBCAT_DB_IDLE_TX_TIMEOUT with a DatabaseError naming the limit', async () => {
    const { db, location } = await openWithShortLimits();
    const error = await errorOf(
      db.transaction().execute(async (trx) => {
        await sql`SELECT 1`.execute(trx);
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        await sql`SELECT 2`.execute(trx);
      }),
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error.message).toBe(
      `PostgreSQL at ${location} closed a transaction left idle for over 1 s, its idle-in-transaction timeout (PUBCAT_DB_IDLE_TX_TIMEOUT raises it; 0 removes it)`,
    );
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([{ one: 1 }]);
  });

  it('lets a migration run past the statement timeout and the client-side limit above it', async () => {
    const opened = await openWithShortLimits();
    const slow = { version: 1, name: '001_slow.sql', script: 'SELECT pg_sleep(3.5);', checksum: 'slow', postgresOnly: false };
    expect(await migrate(opened, [slow])).toEqual({ applied: ['001_slow.sql'], skipped: [], alreadyApplied: 0 });
    const error = await errorOf(sql`SELECT pg_sleep(1.5)`.execute(opened.db));
    expect(error.message).toContain('cancelled a statement after 1 s');
  });
});
