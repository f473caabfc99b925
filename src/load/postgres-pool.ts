/**
 * The pg pool behind a PostgreSQL catalogue, with a limit on every wait: opening a connection
 * (PUBCAT_DB_CONNECT_TIMEOUT), one statement (PUBCAT_DB_STATEMENT_TIMEOUT, enforced by the server
 * and, a little later, by the client, since a server that stopped answering enforces nothing) and
 * a transaction left open and idle (PUBCAT_DB_IDLE_TX_TIMEOUT). TCP keep-alive notices a server
 * that vanished without closing the connection. A limit that trips becomes a DatabaseError naming
 * the server, the limit and the variable that raises it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import pg from 'pg';
import { redactUrl, type DatabaseTimeouts } from '../config.js';
import { DatabaseError } from '../errors.js';

/** How long after the server's statement timeout the client stops waiting for the server to report it. */
export const CLIENT_TIMEOUT_MARGIN_SECONDS = 2;
const KEEPALIVE_IDLE_MS = 30_000;
const PG_INT8_OID = 20;
const QUERY_CANCELED = '57014';
const IDLE_IN_TRANSACTION_TIMEOUT = '25P03';

const noStatementLimit = new AsyncLocalStorage<true>();

/** Runs `work` with no client-side statement limit; the server's is lifted with SET LOCAL by the caller. */
export function withoutClientStatementLimit<T>(work: () => Promise<T>): Promise<T> {
  return noStatementLimit.run(true, work);
}

export interface TimedPool extends PostgresPool {
  /** Opens a connection and gives it back, so a server that cannot be used is reported at once. */
  check(): Promise<void>;
}

export function createTimedPool(databaseUrl: string, poolSize: number, timeouts: DatabaseTimeouts): TimedPool {
  const location = redactUrl(databaseUrl);
  const { connectSeconds, statementSeconds, idleTransactionSeconds } = timeouts;
  // On each connection, not the pool: pg.Pool would also apply it to waiting for a free
  // connection, and a run's transactions may rightly queue for one longer than that.
  class TimedClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectSeconds * 1000 });
    }
  }
  const pool = new pg.Pool({
    Client: TimedClient,
    connectionString: databaseUrl,
    max: poolSize,
    application_name: 'pubcat',
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    // Startup parameters: they hold from the first statement on, with no extra round trip.
    ...(statementSeconds > 0 ? { statement_timeout: statementSeconds * 1000 } : {}),
    ...(idleTransactionSeconds > 0 ? { idle_in_transaction_session_timeout: idleTransactionSeconds * 1000 } : {}),
    // PMIDs and run ids are bigint columns well inside Number's exact range.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);

  const limits: Limits = {
    location,
    timeouts,
    queryTimeoutMs: statementSeconds > 0 ? (statementSeconds + CLIENT_TIMEOUT_MARGIN_SECONDS) * 1000 : undefined,
  };
  const wrappers = new WeakMap<pg.PoolClient, LimitedClient>();
  const connect = async (): Promise<LimitedClient> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw connectError(location, connectSeconds, error);
    }
    let wrapper = wrappers.get(client);
    if (wrapper === undefined) {
      wrapper = new LimitedClient(client, limits);
      wrappers.set(client, wrapper);
    }
    return wrapper;
  };
  return {
    connect,
    end: () => pool.end(),
    check: async () => (await connect()).release(),
  };
}

interface Limits {
  location: string;
  timeouts: DatabaseTimeouts;
  queryTimeoutMs: number | undefined;
}

/** One pooled connection as Kysely uses it, reporting the limits that trip on it. */
class LimitedClient implements PostgresPoolClient {
  /** The first error the connection had while no statement was running (the server's reason for closing it). */
  #serverError: unknown;
  /** Set when the client stopped waiting on a statement: the connection may still deliver its answer. */
  #abandoned = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly limits: Limits,
  ) {
    // A checked-out client has no other 'error' listener, and an unheard 'error' ends the process.
    // The server's own reason comes first; the closed connection is reported after it.
    client.on('error', (error) => {
      this.#serverError ??= error;
    });
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(statement: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof statement !== 'string') return this.client.query(statement as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
    return this.limitedQuery<R>(statement, parameters ?? []);
  }

  private async limitedQuery<R>(text: string, values: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    // pg reads query_timeout from each query's config, though its types leave it out.
    const query: pg.QueryConfig & { query_timeout?: number } = { text, values: values as unknown[] };
    if (noStatementLimit.getStore() !== true) query.query_timeout = this.limits.queryTimeoutMs;
    try {
      const result = await this.client.query(query);
      return result as unknown as PostgresQueryResult<R>;
    } catch (error) {
      throw this.explain(error) ?? error;
    }
  }

  release(destroy?: boolean): void {
    this.client.release(destroy === true || this.#abandoned);
  }

  private explain(error: unknown): DatabaseError | undefined {
    const { location, timeouts } = this.limits;
    const code = (error as { code?: unknown }).code;
    if (code === QUERY_CANCELED && /statement timeout/.test((error as Error).message)) {
      return new DatabaseError(
        `PostgreSQL at ${location} cancelled a statement after ${timeouts.statementSeconds} s, its statement timeout ` +
          '(PUBCAT_DB_STATEMENT_TIMEOUT raises it; 0 removes it)',
        { input: { location, PUBCAT_DB_STATEMENT_TIMEOUT: timeouts.statementSeconds }, cause: error },
      );
    }
    if ((error as Error).message === 'Query read timeout') {
      this.#abandoned = true;
      const waited = timeouts.statementSeconds + CLIENT_TIMEOUT_MARGIN_SECONDS;
      return new DatabaseError(
        `PostgreSQL at ${location} did not answer a statement within ${waited} s (its statement timeout ` +
          `plus ${CLIENT_TIMEOUT_MARGIN_SECONDS} s): the server is hung or unreachable (PUBCAT_DB_STATEMENT_TIMEOUT raises the limit)`,
        { input: { location, PUBCAT_DB_STATEMENT_TIMEOUT: timeouts.statementSeconds }, cause: error },
      );
    }
    if ((this.#serverError as { code?: unknown } | undefined)?.code === IDLE_IN_TRANSACTION_TIMEOUT) {
      return new DatabaseError(
        `PostgreSQL at ${location} closed a transaction left idle for over ${timeouts.idleTransactionSeconds} s, its ` +
          'idle-in-transaction timeout (PUBCAT_DB_IDLE_TX_TIMEOUT raises it; 0 removes it)',
        { input: { location, PUBCAT_DB_IDLE_TX_TIMEOUT: timeouts.idleTransactionSeconds }, cause: this.#serverError },
      );
    }
    return undefined;
  }
}

function connectError(location: string, connectSeconds: number, error: unknown): DatabaseError {
  const reason = describe(error);
  const code = (firstError(error) as { code?: unknown }).code;
  const message =
    /timeout/i.test(reason)
      ? `the server did not complete the connection within ${connectSeconds} s (PUBCAT_DB_CONNECT_TIMEOUT raises this limit)`
      : code === 'ECONNREFUSED'
        ? `connection refused (${reason}): is the server running and listening there?`
        : reason;
  return new DatabaseError(`cannot connect to PostgreSQL at ${location}: ${message}`, { input: location, cause: error });
}

function firstError(error: unknown): unknown {
  return error instanceof AggregateError && error.errors.length > 0 ? firstError(error.errors[0]) : error;
}

function describe(error: unknown): string {
  const first = firstError(error);
  return first instanceof Error ? first.message : String(first);
}
