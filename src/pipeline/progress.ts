/**
 * Progress of a long run: a one-line bar on stderr when it is a terminal, otherwise a pino log
 * line every few seconds (a log collector has no use for carriage returns). The bar is drawn
 * through the stream's Terminal, the one the logger writes through, so log lines appear above it.
 */
import type { Logger } from '../logger.js';
import { terminalFor, type Terminal, type TerminalStream } from '../terminal.js';

export interface ProgressSnapshot {
  /** Input items handled so far (PMIDs and refused lines). */
  done: number;
  /** Input size when known up front (arguments, a file, a query's hit count). */
  total: number | undefined;
  /** Records loaded (inserted + updated + unchanged). */
  records: number;
  rateLimited: number;
  retries: number;
  /** Printed before the bar (an import names its file and the files done). */
  label?: string;
  /** What `done` and `total` count, when not input items (an import counts megabytes read). */
  unit?: string;
}

export interface ProgressReporter {
  update(snapshot: ProgressSnapshot): void;
  /** Clears the bar (or logs the last figures) before the summary line. */
  finish(): void;
}

const REDRAW_INTERVAL_MS = 100;
const LOG_INTERVAL_MS = 10_000;
const BAR_WIDTH = 24;

export function createProgressReporter(stream: TerminalStream, logger: Logger): ProgressReporter {
  const terminal = terminalFor(stream);
  return terminal.isTTY ? new TerminalBar(terminal) : new PeriodicLog(logger);
}

class Rate {
  private readonly startedAt = Date.now();

  perSecond(count: number): number {
    const seconds = (Date.now() - this.startedAt) / 1000;
    return seconds > 0 ? count / seconds : 0;
  }

  /** Seconds left at the average rate so far, when the total is known. */
  remainingSeconds(snapshot: ProgressSnapshot): number | undefined {
    if (snapshot.total === undefined || snapshot.done === 0) return undefined;
    const rate = this.perSecond(snapshot.done);
    return rate > 0 ? (snapshot.total - snapshot.done) / rate : undefined;
  }
}

class TerminalBar implements ProgressReporter {
  private readonly rate = new Rate();
  private lastDrawAt = 0;

  constructor(private readonly terminal: Terminal) {}

  update(snapshot: ProgressSnapshot): void {
    const now = Date.now();
    if (now - this.lastDrawAt < REDRAW_INTERVAL_MS) return;
    this.lastDrawAt = now;
    this.terminal.drawBar(formatBar(snapshot, this.rate.perSecond(snapshot.records), this.rate.remainingSeconds(snapshot)));
  }

  finish(): void {
    this.terminal.clearBar();
  }
}

class PeriodicLog implements ProgressReporter {
  private readonly rate = new Rate();
  private lastLogAt = Date.now();
  private last: ProgressSnapshot | undefined;

  constructor(private readonly logger: Logger) {}

  update(snapshot: ProgressSnapshot): void {
    this.last = snapshot;
    if (Date.now() - this.lastLogAt < LOG_INTERVAL_MS) return;
    this.lastLogAt = Date.now();
    this.log(snapshot);
  }

  finish(): void {
    if (this.last !== undefined) this.log(this.last);
  }

  private log(snapshot: ProgressSnapshot): void {
    this.logger.info(
      { ...snapshot, recordsPerSecond: Math.round(this.rate.perSecond(snapshot.records)), etaSeconds: this.rate.remainingSeconds(snapshot) },
      'progress',
    );
  }
}

export function formatBar(snapshot: ProgressSnapshot, recordsPerSecond: number, remainingSeconds: number | undefined): string {
  const { done, total } = snapshot;
  const share = total !== undefined && total > 0 ? Math.min(1, done / total) : undefined;
  const bar =
    share === undefined ? '' : `[${'#'.repeat(Math.round(share * BAR_WIDTH)).padEnd(BAR_WIDTH, '.')}] ${(share * 100).toFixed(0).padStart(3)}% `;
  const count = `${total === undefined ? `${done}` : `${done}/${total}`}${snapshot.unit === undefined ? '' : ` ${snapshot.unit}`}`;
  const eta = remainingSeconds === undefined ? '' : `  ETA ${formatDuration(remainingSeconds)}`;
  const label = snapshot.label === undefined ? '' : `${snapshot.label} `;
  return `${label}${bar}${count}  ${recordsPerSecond.toFixed(0)} rec/s${eta}  429s ${snapshot.rateLimited}  retries ${snapshot.retries}`;
}

export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}
