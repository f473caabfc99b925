/**
 * What a benchmarked process uses, read from Linux's /proc: CPU seconds, peak memory, and the CPU
 * of a database's PostgreSQL backends (each connection is a process of its own).
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';

/** CPU seconds (user + system) used so far by a process, or a thread given its /proc/PID/task/TID/stat; Linux counts them in USER_HZ, 100 per second. */
export function statCpuSeconds(path: string): number | undefined {
  try {
    const fields = readFileSync(path, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used so far; undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  return statCpuSeconds(`/proc/${pid}/stat`);
}

/** Peak resident memory of a running process, from the kernel's high-water mark. */
export function peakRssMb(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? 0 : Number(match[1]) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Follows the CPU of a database's PostgreSQL backends while they live: the last reading of each
 * is what it used, give or take one sampling interval.
 */
export function followBackends(admin: pg.Client, database: string): { stop(): Promise<number | undefined> } {
  const used = new Map<number, number>();
  let readable = true;
  let reading = Promise.resolve();
  const sample = (): void => {
    reading = reading.then(async () => {
      const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
      for (const { pid } of rows) {
        const seconds = processCpuSeconds(pid);
        if (seconds === undefined) readable = false;
        else used.set(pid, seconds);
      }
    });
  };
  const timer = setInterval(sample, 200);
  return {
    async stop() {
      clearInterval(timer);
      sample();
      await reading;
      return readable && used.size > 0 ? [...used.values()].reduce((sum, seconds) => sum + seconds, 0) : undefined;
    },
  };
}
