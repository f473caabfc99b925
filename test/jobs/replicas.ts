/** `pubcat schedule` replicas as child processes, with their pino logs parsed as they arrive. */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH, childEnvironment } from '../support/cli.js';

export interface LogLine {
  level: number;
  msg: string;
  job?: string;
  runId?: number;
  scheduledFor?: string;
  from?: string;
  resumedFrom?: number | null;
  [key: string]: unknown;
}

export interface Replica {
  pid: number;
  /** `host:pid` would be its etl_run.replica; the pid alone is enough to tell replicas apart here. */
  logs: LogLine[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(signal: NodeJS.Signals): void;
}

export function startReplica(env: Record<string, string | undefined>, staleSeconds: number): Replica {
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, 'schedule', '--stale-seconds', String(staleSeconds)], {
    env: childEnvironment({ LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: LogLine[] = [];
  let pending = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 50, msg: line });
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { pid: child.pid!, logs, exited, kill: (signal) => child.kill(signal) };
}

/** Polls `check` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
