/**
 * The NCBI start budget every pubcat process on one PostgreSQL shares (sql/010_ncbi_start_slots.sql):
 * one row per budget holds when the budget's next request start is free. A process reserves a few
 * consecutive starts with one UPDATE that succeeds only if that time is near, and moves it past
 * them. Times are the database's clock's; each process estimates that clock's offset from its own,
 * so the hosts' clocks never need to agree.
 */
import { sql, type Kysely } from 'kysely';
import { DatabaseError } from '../errors.js';
import { describeFailure, isConnectionLost } from '../process-guard.js';
import { type Reservation, type ReservationRequest, type StartBudget, monotonicNow } from '../extract/start-budget.js';
import type { Database } from './schema.js';

/**
 * How near the last start reserved (the next free start less one spacing) must be for a process
 * to reserve: a few round trips to the database, so that a process still holding starts asks for
 * the next ones before its last is used, and its answer arrives before the next free start is due
 * (a process that asked only once that start was free would lose a round trip per reservation).
 * At least 50 ms, at most 250 ms: a reservation never reaches further ahead than that, one
 * spacing, and the starts it holds.
 */
const MIN_ASK_AHEAD_MS = 50;
const MAX_ASK_AHEAD_MS = 250;
/** Weight of the newest round trip in the smoothed round-trip time (as TCP smooths it). */
const RTT_WEIGHT = 1 / 8;
/**
 * How fast the offset between this process's clock and the database's may change: 500 ppm, the
 * fastest an NTP daemon slews a clock. An older reading of it is trusted less by that much.
 */
const CLOCK_DRIFT = 5e-4;

/** The database's clock minus this process's, within `uncertaintyMs`, as read `at` (local). */
interface ClockReading {
  offsetMs: number;
  uncertaintyMs: number;
  at: number;
}

interface ReserveAnswer {
  /** The database's clock when it reserved the starts or refused (ms since the epoch). */
  clock_ms: number;
  /** The first start reserved, or null. */
  first_ms: number | null;
  /** When the next start is free, if none was reserved. */
  next_ms: number | null;
}

export class DatabaseStartBudget implements StartBudget {
  /** Until then (local clock) this process already knows it cannot reserve, so it need not ask. */
  private busyUntil = 0;
  private row: Promise<void> | undefined;
  /** The tightest reading of the database's clock so far. */
  private clock: ClockReading | undefined;
  /** Smoothed round trip of a reservation, ms. */
  private rttMs: number | undefined;

  /** `key`: what NCBI counts starts against (startBudgetKey in src/extract/start-budget.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    readonly key: string,
  ) {}

  async reserve({ gapsMs, allowanceMs, lateMs }: ReservationRequest): Promise<Reservation> {
    const known = this.busyUntil - monotonicNow();
    if (known > 0) return { retryInMs: known };
    const askAheadMs = Math.min(MAX_ASK_AHEAD_MS, Math.max(MIN_ASK_AHEAD_MS, 3 * (this.rttMs ?? 0)));
    // When the budget is idle, the first start is set where the answer will have arrived.
    const leadMs = Math.min(askAheadMs, this.rttMs ?? MIN_ASK_AHEAD_MS);
    const totalMs = gapsMs.reduce((sum, gap) => sum + gap, 0);
    // The next free start may be up to one spacing (this process's) further off than the last reserved.
    const windowMs = askAheadMs + Math.min(...gapsMs);
    const askedAt = monotonicNow();
    const answer = await this.ask('reserve request starts from', async () => {
      // An UPDATE that waited for a concurrent reservation's row lock sees that reservation's
      // next_slot and may reserve nothing; the SELECT still reads the old one, and the answer is
      // "ask again at once".
      const { rows } = await sql<ReserveAnswer>`
        WITH clock AS (SELECT clock_timestamp() AS now),
        taken AS (
          UPDATE ncbi_start_slot AS slot
          SET next_slot = greatest(slot.next_slot, clock.now + ${leadMs}::float8 * interval '1 millisecond') + ${totalMs}::float8 * interval '1 millisecond'
          FROM clock
          WHERE slot.budget = ${this.key} AND slot.next_slot <= clock.now + ${windowMs}::float8 * interval '1 millisecond'
          RETURNING extract(epoch FROM slot.next_slot) * 1000 - ${totalMs}::float8 AS first_ms
        )
        SELECT (SELECT extract(epoch FROM clock.now) * 1000 FROM clock)::float8 AS clock_ms,
               (SELECT first_ms FROM taken)::float8 AS first_ms,
               (SELECT extract(epoch FROM slot.next_slot) * 1000 FROM ncbi_start_slot AS slot WHERE slot.budget = ${this.key})::float8 AS next_ms`.execute(
        this.db,
      );
      return rows[0] as ReserveAnswer;
    });
    const answeredAt = monotonicNow();
    const rtt = answeredAt - askedAt;
    this.rttMs = this.rttMs === undefined ? rtt : this.rttMs + (rtt - this.rttMs) * RTT_WEIGHT;
    const { offsetMs, uncertaintyMs } = this.readClock(askedAt, answeredAt, answer.clock_ms);
    if (answer.first_ms === null) {
      const retryInMs = Math.max(1, (answer.next_ms ?? 0) - offsetMs - windowMs - answeredAt);
      this.busyUntil = answeredAt + retryInMs;
      return { retryInMs };
    }
    // Each start goes no sooner than its time can be by this clock, and no later than `lateMs`
    // after the latest it can be (or, with a poor reading, a moment after the first).
    let at = answer.first_ms - offsetMs;
    const starts = gapsMs.map((gapMs, index) => {
      const start = {
        from: at + uncertaintyMs,
        until: Math.max(at - uncertaintyMs + lateMs, at + uncertaintyMs + lateMs / 2),
        allowanceMs: index === 0 ? allowanceMs : 0,
      };
      at += gapMs;
      return start;
    });
    // The budget's next start is then `at`: asking before it is near would be refused.
    this.busyUntil = at - windowMs;
    return { starts };
  }

  /**
   * Reads the database's clock from one answer: it was taken between asking and answering, so
   * within half the round trip of their midpoint. A busy process answers slowly, so the tightest
   * reading is kept, aged by CLOCK_DRIFT, until a tighter one comes, or one that disagrees with
   * it (a clock was set).
   */
  private readClock(askedAt: number, answeredAt: number, databaseMs: number): { offsetMs: number; uncertaintyMs: number } {
    const reading = { offsetMs: databaseMs - (askedAt + answeredAt) / 2, uncertaintyMs: (answeredAt - askedAt) / 2, at: answeredAt };
    const kept = this.clock;
    if (kept !== undefined) {
      const keptUncertaintyMs = kept.uncertaintyMs + (answeredAt - kept.at) * CLOCK_DRIFT;
      const agree = Math.abs(reading.offsetMs - kept.offsetMs) <= reading.uncertaintyMs + keptUncertaintyMs;
      if (agree && keptUncertaintyMs < reading.uncertaintyMs) return { offsetMs: kept.offsetMs, uncertaintyMs: keptUncertaintyMs };
    }
    this.clock = reading;
    return reading;
  }

  async pause(ms: number): Promise<void> {
    await this.ask('pause', async () => {
      await sql`
        UPDATE ncbi_start_slot
        SET next_slot = greatest(next_slot, clock_timestamp() + ${ms}::float8 * interval '1 millisecond'),
            paused_until = greatest(paused_until, clock_timestamp() + ${ms}::float8 * interval '1 millisecond')
        WHERE budget = ${this.key}`.execute(this.db);
    });
  }

  /** Runs `work` once the budget's row exists; a failure names the budget and the database's reason. */
  private async ask<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      this.row ??= sql`INSERT INTO ncbi_start_slot (budget) VALUES (${this.key}) ON CONFLICT (budget) DO NOTHING`
        .execute(this.db)
        .then(() => undefined);
      await this.row;
      return await work();
    } catch (error) {
      this.row = undefined;
      throw budgetError(action, this.key, error);
    }
  }
}

/**
 * Why the budget could not be asked, as the line a command ends with: a connection that went away
 * is called that, as anywhere else in a run, with what to do about it.
 */
export function budgetError(action: string, key: string, error: unknown): DatabaseError {
  const reason = isConnectionLost(error) ? describeFailure(error) : (error as Error).message;
  return new DatabaseError(`cannot ${action} the shared NCBI start budget "${key}": ${reason}`, { input: key, cause: error });
}
