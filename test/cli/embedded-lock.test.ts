import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE_NAME, lockDataDir, type LockHolder, type StaleLock } from '../../src/load/data-dir-lock.js';
import { startReplica, waitFor, type Replica } from '../jobs/replicas.js';
import { runCli } from '../support/cli.js';
import { migratedDataDir } from '../support/databases.js';

/** Opening an on-disk PGlite takes a few seconds, and several times that on a loaded machine. */
const PGLITE_CHILD_TIMEOUT_MS = 120_000;

/** The pid of a process that has exited, so no process has it now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

function writeLock(dataDir: string, holder: Partial<LockHolder>): void {
  const lock: LockHolder = { pid: 0, host: hostname(), command: 'pubcat backfill', since: '2024-05-01T09:30:00.000Z', token: 'f00d', ...holder };
  writeFileSync(join(dataDir, LOCK_FILE_NAME), `${JSON.stringify(lock)}\n`);
}

describe('one process at a time on the embedded database', () => {
  // One data directory for both tests: creating a PGlite database costs seconds of CPU.
  let dataDir: string;
  let scheduler: Replica | undefined;
  beforeAll(async () => {
    dataDir = await migratedDataDir('pubcat-lock-');
  });
  afterEach(async () => {
    scheduler?.kill('SIGKILL');
    await scheduler?.exited;
    scheduler = undefined;
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a reader and a writer while pubcat schedule has it open, naming the holder; frees it when the holder exits', async () => {
    const env = { PUBCAT_DATA_DIR: dataDir };
    const running = startReplica({ ...env, PUBCAT_CRON_REFRESH: '0 0 1 1 *', PUBCAT_CRON_SYNC: 'off' }, 60);
    scheduler = running;
    await waitFor('the scheduler to start', () => running.logs.find((line) => line.msg === 'scheduler started'), PGLITE_CHILD_TIMEOUT_MS / 2);

    const [status, migrate] = [await runCli(['status'], env), await runCli(['migrate'], env)];
    const refusal = new RegExp(
      `^pubcat: the embedded database in ${dataDir} is in use by pubcat schedule \\(pid ${running.pid}, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\); ` +
        'wait for it to finish or point DATABASE_URL at a PostgreSQL server to run several processes\n$',
    );
    for (const refused of [status, migrate]) {
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(refusal);
    }

    running.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
    scheduler = undefined;
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  }, PGLITE_CHILD_TIMEOUT_MS);

  it('takes over a lock whose process is gone, says so in the log, and removes its own lock on exit', async () => {
    const pid = await deadPid();
    writeLock(dataDir, { pid });
    const result = await runCli(['status', '--json'], { PUBCAT_DATA_DIR: dataDir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ database: dataDir, backend: 'pglite' });
    const logs = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logs).toEqual([
      expect.objectContaining({
        level: 40,
        msg:
          `took over the embedded database in ${dataDir}: its lock was left by pubcat backfill ` +
          `(pid ${pid}, since 2024-05-01 09:30:00 UTC), which is no longer running`,
      }),
    ]);
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  }, PGLITE_CHILD_TIMEOUT_MS);
});

describe('the data directory lock file', () => {
  let dataDir: string | undefined;
  afterEach(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    dataDir = undefined;
  });

  it('names this process as holder and refuses a second lock taken in the same process', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pubcat-lock-'));
    const lock = lockDataDir(dataDir, () => undefined);
    const stored = JSON.parse(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8')) as LockHolder;
    expect(stored).toEqual(lock.holder);
    expect(stored).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => lockDataDir(dataDir!, () => undefined)).toThrow(`is in use by ${lock.holder.command} (pid ${process.pid}, since `);
    lock.release();
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  });

  it("takes over a lock with this process's pid that this process does not hold (a restarted container's pid 1)", async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pubcat-lock-'));
    writeLock(dataDir, { pid: process.pid, token: 'earlier' });
    const stale: StaleLock[] = [];
    const lock = lockDataDir(dataDir, (found) => stale.push(found));
    expect(stale).toEqual([{ holder: expect.objectContaining({ pid: process.pid, token: 'earlier' }) }]);
    expect(JSON.parse(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8'))).toEqual(lock.holder);
    lock.release();
  });

  it('keeps a lock held by a process on another host, which it cannot check', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pubcat-lock-'));
    writeLock(dataDir, { pid: await deadPid(), host: 'elsewhere.example' });
    expect(() => lockDataDir(dataDir!, () => undefined)).toThrow(/is in use by pubcat backfill \(pid \d+ on elsewhere\.example, since 2024-05-01 09:30:00 UTC\)/);
  });
});
