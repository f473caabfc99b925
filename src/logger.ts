/**
 * pino to stderr: stdout is kept for what a command prints as its result (tables, --json), so a
 * script can pipe one and still see the logs. A person at a terminal gets short coloured lines
 * (pino-pretty, formatting in this process: no transport worker); a log collector gets JSON.
 * Every line goes through the stream's Terminal, which keeps it off the progress bar.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { LogFormat, LogLevel } from './config.js';
import { terminalFor, type TerminalStream } from './terminal.js';

export type { Logger };

/** `format` undefined: pretty when `stream` is a terminal, JSON otherwise. */
export function createLogger(level: LogLevel, format?: LogFormat, stream: TerminalStream = process.stderr): Logger {
  const terminal = terminalFor(stream);
  if ((format ?? (terminal.isTTY ? 'pretty' : 'json')) === 'json') {
    return pino({ level, base: { pid: process.pid } }, { write: (line: string) => terminal.writeLines(line) });
  }
  // Loaded only here: JSON runs (scripts, cron jobs, containers) skip its start-up cost.
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const pretty = prettyFactory({
    colorize: terminal.isTTY,
    // The offset, so that a line read beside status output (which gives every time its zone) agrees with it.
    translateTime: 'SYS:HH:MM:ss o',
    singleLine: true,
  });
  return pino({ level, base: null }, { write: (line: string) => terminal.writeLines(pretty(withoutEchoedFields(line))) });
}

/**
 * An entry's fields for a person: those its message does not already say. `skipped line 4: not a
 * PMID` need not be followed by `{"where":"line 4","reason":"not a PMID"}`; JSON keeps them all.
 */
function withoutEchoedFields(line: string): Record<string, unknown> {
  const entry = JSON.parse(line) as Record<string, unknown>;
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  for (const [key, value] of Object.entries(entry)) {
    if (key !== 'msg' && typeof value === 'string' && value !== '' && message.includes(value)) delete entry[key];
  }
  return entry;
}
