/**
 * The NCBI start budget every pubcat process on one PostgreSQL shares (sql/010_ncbi_start_slots.sql):
 * one row per budget holds when the next request start is free. A process takes a start with one
 * UPDATE that succeeds only if that time is (nearly) here and moves it one spacing on. Times are
 * the database's clock's; each process estimates that clock's offset from its own, so the hosts'
 * clocks never need to agree.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { DatabaseError } from '../errors.js';
import type { StartBudget } from '../extract/start-budget.js';
import type { Database } from './schema.js';

/**
 * How far ahead a start may be taken: one round trip to the database, so that the answer arrives
 * before the start is due and a process alone keeps the whole rate (asking only when the start was
 * free lost a round trip per start, 10 % of the rate at 6 requests/s on a busy machine). A claim
 * never reaches further ahead, so it is worth nothing to a process that dies or is paused meanwhile.
 */
const TAKE_AHEAD_MS = 50;
/**
 * A start later than its slot by more than this moves the next slot to its own time + spacing, as
 * a process's own limiter would: evenly spaced starts at pace 0.98 leave 20 ms of a sliding second
 * free, and a late start must not eat more than a quarter of it, leaving the rest to network jitter.
 */
const LATE_MS = 5;
/**
 * How fast the offset between this process's clock and the database's may change: 500 ppm, the
 * fastest an NTP daemon slews a clock. An older reading of it is trusted less by that much.
 */
const CLOCK_DRIFT = 5e-4;

/** This process's clock, in ms since the epoch: monotonic, so that no step of the system clock moves it. */
const localNow = (): number => performance.timeOrigin + performance.now();

/** The database's clock minus this process's, within `uncertaintyMs`, as read `at` (local). */
interface ClockReading {
  offsetMs: number;
  uncertaintyMs: number;
  at: number;
}

interface TakeAnswer {
  /** The database's clock when it took the start or refused it (ms since the epoch). */
  clock_ms: number;
  /** The start taken, or null. */
  slot_ms: number | null;
  /** When the next start is free, if none was taken. */
  next_ms: number | null;
}

export class DatabaseStartBudget implements StartBudget {
  /** Until then (local clock) this process already knows it cannot take a start, so it need not ask. */
  private busyUntil = 0;
  private row: Promise<void> | undefined;
  /** The tightest reading of the database's clock so far. */
  private clock: ClockReading | undefined;

  /** `key`: what NCBI counts starts against (startBudgetKey in src/extract/start-budget.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    readonly key: string,
  ) {}

  async take(spacingMs: number): Promise<number> {
    const known = this.busyUntil - localNow();
    if (known > 0) return known;
    const askedAt = localNow();
    const answer = await this.ask('take a request start from', async () => {
      // An UPDATE that waited for a concurrent taker's row lock sees that taker's next_slot and
      // may take nothing; the SELECT still reads the old one, and the answer is "ask again at once".
      const { rows } = await sql<TakeAnswer>`
        WITH clock AS (SELECT clock_timestamp() AS now),
        taken AS (
          UPDATE ncbi_start_slot AS slot
          SET next_slot = greatest(slot.next_slot, clock.now) + ${spacingMs}::float8 * interval '1 millisecond'
          FROM clock
          WHERE slot.budget = ${this.key} AND slot.next_slot <= clock.now + ${TAKE_AHEAD_MS}::float8 * interval '1 millisecond'
          RETURNING extract(epoch FROM slot.next_slot) * 1000 - ${spacingMs}::float8 AS slot_ms
        )
        SELECT (SELECT extract(epoch FROM clock.now) * 1000 FROM clock)::float8 AS clock_ms,
               (SELECT slot_ms FROM taken)::float8 AS slot_ms,
               (SELECT extract(epoch FROM slot.next_slot) * 1000 FROM ncbi_start_slot AS slot WHERE slot.budget = ${this.key})::float8 AS next_ms`.execute(
        this.db,
      );
      return rows[0] as TakeAnswer;
    });
    const answeredAt = localNow();
    const { offsetMs, uncertaintyMs } = this.readClock(askedAt, answeredAt, answer.clock_ms);
    if (answer.slot_ms === null) {
      const retryMs = Math.max(1, (answer.next_ms ?? 0) - offsetMs - TAKE_AHEAD_MS - answeredAt);
      this.busyUntil = answeredAt + retryMs;
      return retryMs;
    }
    // Started no sooner than the slot can be by this clock, and when later than it can be, the
    // next slot moves with this start.
    const slotAt = answer.slot_ms - offsetMs;
    const wait = slotAt + uncertaintyMs - localNow();
    if (wait > 0) await sleep(Math.ceil(wait));
    const lateMs = localNow() - (slotAt - uncertaintyMs);
    if (lateMs > LATE_MS) this.respace(answer.slot_ms + lateMs + spacingMs);
    this.busyUntil = localNow() + spacingMs - TAKE_AHEAD_MS;
    return 0;
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

  /** Keeps the next start one spacing after this late one; if the write fails, only that gap is short. */
  private respace(nextSlotMs: number): void {
    sql`UPDATE ncbi_start_slot SET next_slot = greatest(next_slot, to_timestamp(${nextSlotMs}::float8 / 1000)) WHERE budget = ${this.key}`
      .execute(this.db)
      .catch(() => undefined);
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
      throw new DatabaseError(`cannot ${action} the shared NCBI start budget "${this.key}": ${(error as Error).message}`, {
        input: this.key,
        cause: error,
      });
    }
  }
}
