/**
 * What `pubcat` exits with, so that cron, CI and orchestrators can act on it without parsing
 * output. The README's "Exit codes" table is this list.
 */
export const EXIT_OK = 0;
/** The command could not do its work (bad input or configuration, database or NCBI unreachable, …). */
export const EXIT_FAILED = 1;
/** The run finished, but some PMIDs failed after every retry (run status `partial`). */
export const EXIT_PARTIAL = 2;

let requested = EXIT_OK;

/**
 * Sets the code the command will exit with once it has closed everything. Not process.exitCode
 * directly: PGlite's runtime resets that when the embedded database closes.
 */
export function exitWith(code: number): void {
  requested = code;
}

export function requestedExitCode(): number {
  return requested;
}

/** Interrupted by a signal, after the batches in flight were loaded and checkpointed: 128 + signal number. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15);
}
