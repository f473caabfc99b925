/**
 * Times as pubcat prints them for people: ISO 8601 in the process's local time zone, with its
 * offset (`2026-12-02T03:00:00-05:00`, or `…Z` in UTC). Local, because the cron schedules fire in
 * that zone, so `0 3 * * *` shows as 03:00; with the offset, because a time without its zone
 * cannot be compared with anything. `--json` output keeps the UTC instant (`toISOString`).
 */
export function formatTime(time: Date | string): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  const offsetMinutes = -date.getTimezoneOffset();
  const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
  return `${local}${formatOffset(offsetMinutes)}`;
}

function formatOffset(minutes: number): string {
  if (minutes === 0) return 'Z';
  const size = Math.abs(minutes);
  const hours = String(Math.floor(size / 60)).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${hours}:${String(size % 60).padStart(2, '0')}`;
}
