/**
 * A record the database refuses fails alone. A batch is written in one statement, so one bad
 * value (a character PostgreSQL cannot store, an index entry over its size limit, a broken
 * constraint) rolls back every record with it, and the same batch fails again on every run.
 * Here each attempt runs under a SAVEPOINT inside the batch's transaction: when the database
 * refuses the data, the attempt is rolled back and its two halves are tried in turn, down to
 * single records, which are then reported with the database's reason while everything else
 * loads. A batch the database accepts costs one SAVEPOINT beside its statements: an accepted
 * attempt's savepoint is left for the commit to release, which saves a round trip, and a later
 * SAVEPOINT of the same name simply nests inside it.
 *
 * Only errors about the data sent are isolated. A lost connection, a timeout, a serialization
 * failure or a deadlock says nothing about any record: it fails the batch, whose transaction
 * rolls back so that the run can retry or resume it.
 */
import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/**
 * SQLSTATE classes the values of a statement cause: 22 data exception (e.g. 22021 NUL in text,
 * 22P05 NUL in JSON), 23 integrity constraint violation, 54 program limit exceeded (54000 is
 * the btree entry size).
 */
const DATA_ERROR_CLASSES = new Set(['22', '23', '54']);

const SAVEPOINT = sql.id('pubcat_records');

export interface RefusedRecord {
  pmid: number;
  /** The database's own message and SQLSTATE. */
  reason: string;
}

/** What the database said when it refused the data. */
export interface DataError {
  state: string;
  message: string;
}

export interface IsolatedLoad<R> {
  /** What `load` returned for each part of the rows the database accepted, in row order. */
  loaded: R[];
  refused: RefusedRecord[];
}

/**
 * Runs `load` on `rows`, then on halves of any part the database refuses, until the refused
 * records are alone (see the module comment). Must run inside a transaction: the caller's
 * transaction is where every part that loads stays.
 */
export async function loadIsolatingRefused<T extends { pmid: number }, R>(
  trx: Transaction<Database>,
  rows: readonly T[],
  load: (part: readonly T[]) => Promise<R>,
): Promise<IsolatedLoad<R>> {
  const result: IsolatedLoad<R> = { loaded: [], refused: [] };
  const attempt = async (part: readonly T[]): Promise<void> => {
    await sql`SAVEPOINT ${SAVEPOINT}`.execute(trx);
    let refusal: DataError | undefined;
    try {
      result.loaded.push(await load(part));
      return;
    } catch (error) {
      refusal = dataError(error);
      if (refusal === undefined) throw error;
    }
    await sql`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`.execute(trx);
    await sql`RELEASE SAVEPOINT ${SAVEPOINT}`.execute(trx);
    if (part.length === 1) {
      const reason = `the database refused it: ${refusal.message} (SQLSTATE ${refusal.state})`;
      result.refused.push({ pmid: (part[0] as T).pmid, reason });
      return;
    }
    const middle = Math.ceil(part.length / 2);
    await attempt(part.slice(0, middle));
    await attempt(part.slice(middle));
  };
  if (rows.length > 0) await attempt(rows);
  return result;
}

/**
 * The database's own error behind `error` (the first in its chain of causes that has a SQLSTATE)
 * when it is about the data sent (see DATA_ERROR_CLASSES); undefined for anything else.
 */
export function dataError(error: unknown): DataError | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const state = (cause as { code?: unknown }).code;
    if (typeof state === 'string' && /^[0-9A-Z]{5}$/.test(state)) {
      return DATA_ERROR_CLASSES.has(state.slice(0, 2)) ? { state, message: cause.message } : undefined;
    }
  }
  return undefined;
}
