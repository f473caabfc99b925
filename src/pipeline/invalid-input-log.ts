/**
 * Warnings about refused input items. The first few are logged one by one, saying where, what
 * and why; the rest are only counted and summed up in one line at the end of the input, so a
 * file of garbage neither floods stderr nor holds anything per item in memory.
 */
import type { Logger } from '../logger.js';
import { whereOf, type PmidItem } from './pmid-input.js';

/** Enough to see what is wrong with an input; past it, more lines only repeat it. */
export const INVALID_ITEMS_LOGGED = 20;

/** Longest stretch of a refused item quoted in its warning (an item may be 1 KB). */
const QUOTED_CHARACTERS = 40;

export class InvalidInputLog {
  private refused = 0;

  constructor(private readonly logger: Logger) {}

  add(item: Extract<PmidItem, { kind: 'invalid' }>): void {
    this.refused += 1;
    if (this.refused > INVALID_ITEMS_LOGGED) return;
    const { text, reason } = item;
    const where = whereOf(item);
    this.logger.warn({ where, text, reason }, `skipped ${quote(text)} at ${where}: ${reason}`);
  }

  /** Says how many refused items went unlogged, if any did. */
  finish(): void {
    const unlogged = this.refused - INVALID_ITEMS_LOGGED;
    if (unlogged <= 0) return;
    this.logger.warn(
      { invalid: this.refused, unlogged },
      `skipped ${unlogged} more invalid input items, not logged one by one (${this.refused} in all)`,
    );
  }
}

/** JSON quoting shows control characters (the NULs of a binary file, say) as escapes, not as themselves. */
function quote(text: string): string {
  return JSON.stringify(text.length > QUOTED_CHARACTERS ? `${text.slice(0, QUOTED_CHARACTERS)}…` : text);
}
