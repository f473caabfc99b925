/**
 * The one owner of a stream that both log lines and the progress bar write to. The bar is a line
 * redrawn in place, without a newline, so a log line written straight after it would be glued to
 * it; here a log line clears the bar, is written, and the bar is drawn again beneath it, all in
 * one write so nothing can come between.
 */

/** What a terminal needs of its stream (process.stderr, or a fake one in tests). */
export interface TerminalStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const CLEAR_LINE = '\r\x1b[K';

export class Terminal {
  private bar: string | undefined;
  // A process that exits with the bar drawn (a second Ctrl-C) ends its line, so the last figures
  // stay readable and the shell prompt does not start on top of them.
  private readonly endBarOnExit = (): void => void this.stream.write('\n');

  constructor(readonly stream: TerminalStream) {}

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  /** Writes whole lines (each ending in a newline) above the bar. */
  writeLines(text: string): void {
    this.stream.write(this.bar === undefined ? text : `${CLEAR_LINE}${text}${this.bar}`);
  }

  /** Draws `line` over the previous bar. */
  drawBar(line: string): void {
    if (this.bar === undefined) process.once('exit', this.endBarOnExit);
    // A bar wider than the terminal wraps, and clearing it would then wipe only its last row.
    const width = this.stream.columns;
    this.bar = width !== undefined && width > 1 && line.length >= width ? line.slice(0, width - 1) : line;
    this.stream.write(`\r${this.bar}\x1b[K`);
  }

  /** Removes the bar, leaving the cursor at the start of an empty line. */
  clearBar(): void {
    if (this.bar === undefined) return;
    this.bar = undefined;
    process.off('exit', this.endBarOnExit);
    this.stream.write(CLEAR_LINE);
  }
}

const terminals = new WeakMap<TerminalStream, Terminal>();

/** The terminal of `stream`: the logger and the progress bar of one stream always get the same one. */
export function terminalFor(stream: TerminalStream): Terminal {
  let terminal = terminals.get(stream);
  if (terminal === undefined) {
    terminal = new Terminal(stream);
    terminals.set(stream, terminal);
  }
  return terminal;
}
