/**
 * No exit without a reason. The `pubcat` command runs its work under this guard, which turns
 * every way a Node process can end into one line on stderr and a documented exit code:
 *
 * - the command settles: its error, if any, becomes the line (`describeFailure`);
 * - an uncaught exception or unhandled rejection: the line, the active run is marked failed
 *   (`onFatal` cleanups, bounded in time), exit 1;
 * - the event loop empties while the command is still pending (a promise nothing will settle):
 *   Node would exit 13 with no message; the guard says so and exits 1;
 * - a signal while no run is active: the line, 128 + signal.
 * After the command settles the process must end on its own; if a stray handle keeps it alive,
 * it is ended after a grace period rather than hanging a scheduler's slot.
 */
import { inspect } from 'node:util';
import { EXIT_FAILED, exitCodeForSignal, requestedExitCode } from './exit-codes.js';
import { PubcatError } from './errors.js';
import { terminalFor } from './terminal.js';

/** Time given to mark a run failed after a fatal error, so a dead database cannot hold the exit. */
const FATAL_CLEANUP_MS = 3_000;
/** Time a settled command has to close what it opened before the process is ended anyway. */
const EXIT_GRACE_MS = 10_000;

type Cleanup = (reason: string) => Promise<unknown>;
const cleanups = new Set<Cleanup>();

/**
 * Registers work to do if the process dies of an error nobody caught (mark the run failed);
 * returns the function that unregisters it.
 */
export function onFatal(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** Error codes and messages with which node-postgres reports a connection that went away. */
const CONNECTION_LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08003', '08006']);
const CONNECTION_LOST_MESSAGE = /connection terminated|terminating connection|connection (?:is )?closed|client has encountered a connection error|server closed the connection/i;

/** Whether `error` is node-postgres reporting that its connection to the server went away. */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof PubcatError) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && CONNECTION_LOST_CODES.has(code)) || CONNECTION_LOST_MESSAGE.test(messageOf(error));
}

/** The one line that says why a command failed, with the fix where pubcat knows it. */
export function describeFailure(error: unknown): string {
  if (error instanceof PubcatError) return error.message;
  const message = messageOf(error);
  if (isConnectionLost(error)) {
    return `lost the connection to the database (${message}); every batch before the last checkpoint is saved: run the same command again to resume`;
  }
  return `internal error: ${message} (run again with LOG_LEVEL=debug for the stack, and report it)`;
}

function messageOf(error: unknown): string {
  return firstLine(error instanceof Error ? error.message : inspect(error, { breakLength: Infinity, depth: 2 }));
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line === '' ? 'no message' : line;
}

/** Through the terminal, so that the line never lands glued to a progress bar. */
function writeLine(text: string): void {
  terminalFor(process.stderr).writeLines(`pubcat: ${text}\n`);
}

async function runCleanups(reason: string): Promise<void> {
  const all = Promise.allSettled([...cleanups].map((cleanup) => cleanup(reason)));
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, FATAL_CLEANUP_MS).unref())]);
}

/**
 * Runs `command` under the guard. `onError` sees a failure before it is printed (to log its
 * stack at debug level, say).
 */
export function runGuarded(command: () => Promise<void>, onError: (error: unknown) => void = () => undefined): void {
  let settled = false;
  let dying = false;

  const die = (error: unknown, origin: string): void => {
    if (dying) return;
    dying = true;
    onError(error);
    const reason = `${origin}: ${describeFailure(error)}`;
    writeLine(reason);
    void runCleanups(reason).finally(() => process.exit(EXIT_FAILED));
  };
  process.on('uncaughtException', (error) => die(error, 'uncaught exception'));
  process.on('unhandledRejection', (error) => die(error, 'unhandled rejection'));

  process.on('beforeExit', () => {
    if (settled || dying) return;
    dying = true;
    writeLine('internal error: the command stopped with its work unfinished (nothing was left to wait for); run it again, and report it');
    process.exit(EXIT_FAILED);
  });

  // While a run is active it handles signals itself (finish the batch, checkpoint); otherwise a
  // signal just ends the command, with its line.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (process.listenerCount(signal) > 1) return;
      writeLine(`interrupted by ${signal}`);
      process.exit(exitCodeForSignal(signal));
    });
  }

  const end = (code: number): void => {
    settled = true;
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  };
  command().then(
    () => end(requestedExitCode()),
    (error: unknown) => {
      onError(error);
      writeLine(describeFailure(error));
      end(EXIT_FAILED);
    },
  );
}
