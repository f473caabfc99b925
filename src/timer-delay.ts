/**
 * Node's timers hold at most 2^31 − 1 ms (about 24.8 days): given more, one fires after 1 ms with
 * only a warning, and a loop waiting out a long pause spins. A wait computed from configuration or
 * from a server's answer (a Retry-After) goes through `timerDelayMs`; a caller that must wait
 * longer than a timer holds looks again when it fires.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** `ms` as a timer can take it: whole milliseconds from 0 to MAX_TIMER_DELAY_MS. */
export function timerDelayMs(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(Math.ceil(ms), MAX_TIMER_DELAY_MS);
}
