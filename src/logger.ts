/**
 * pino to stderr: stdout is kept for what a command prints as its result (tables, --json), so a
 * script can pipe one and still see the logs.
 */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}
