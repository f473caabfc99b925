/**
 * One process at a time on an embedded database. PGlite is PostgreSQL in single-user mode: two
 * processes with the same data directory open each keep their own buffers and write over each
 * other's files. `pubcat.lock` in the data directory names the process that has it open; any
 * other process, reader or writer, is refused at once with the holder named. A lock whose
 * process is gone (killed, crashed, or the machine restarted) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { DatabaseError } from '../errors.js';

export const LOCK_FILE_NAME = 'pubcat.lock';

/** What the lock file holds (one JSON object). `token` tells two holders with the same pid apart. */
export interface LockHolder {
  pid: number;
  host: string;
  /** `pubcat backfill`, `pubcat search add`: the program and its subcommand, without arguments. */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
  token: string;
}

export interface DataDirLock {
  holder: LockHolder;
  /** Removes the lock file if it is still this process's; safe to call more than once. */
  release(): void;
}

/** A lock file that was not taken over: the process that holds it, or null when it is unreadable. */
export interface StaleLock {
  holder: LockHolder | null;
}

/** Lock files this process holds: its own pid in one of them is a live holder, not a stale one. */
const heldHere = new Set<string>();

/** Each failed try means another process took or dropped the lock in between; a few settle it. */
const MAX_TRIES = 5;

/**
 * Takes the lock of `dataDir` (an existing directory) or throws DatabaseError naming its holder.
 * The file appears complete in one step: it is written under a name of its own and then hard
 * linked to `pubcat.lock`, which fails when that name exists, so of two processes starting at
 * once exactly one wins and no reader ever sees half a file.
 */
export function lockDataDir(dataDir: string, onTakeOver: (stale: StaleLock) => void): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: commandName(process.argv),
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(holder)}\n`;
  const draft = `${path}.${holder.token}`;
  writeFileSync(draft, content, { flag: 'wx' });
  try {
    for (let tries = 1; !linked(draft, path); tries += 1) {
      const current = readLock(path);
      if (current?.holder != null && mayBeRunning(path, current.holder)) throw inUseError(dataDir, current.holder);
      if (tries === MAX_TRIES) {
        throw new DatabaseError(`could not take the lock of the embedded database in ${dataDir}: other processes kept taking it`, { input: dataDir });
      }
      if (current !== undefined && removeIfUnchanged(path, current.raw)) onTakeOver({ holder: current.holder });
    }
  } finally {
    unlinkSync(draft);
  }
  heldHere.add(path);
  const release = (): void => {
    if (!heldHere.delete(path)) return;
    process.off('exit', release);
    try {
      if (readLock(path)?.raw === content) unlinkSync(path);
    } catch {
      // The directory is gone or unreadable: there is no lock left to remove.
    }
  };
  // Covers process.exit() too; a process killed outright leaves a stale lock, taken over later.
  process.on('exit', release);
  return { holder, release };
}

/** Links the complete lock file into place; false when a lock is there already. */
function linked(draft: string, path: string): boolean {
  try {
    linkSync(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function readLock(path: string): { raw: string; holder: LockHolder | null } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return { raw, holder: parseHolder(raw) };
}

function parseHolder(raw: string): LockHolder | null {
  try {
    const value = JSON.parse(raw) as Partial<LockHolder>;
    const complete =
      Number.isInteger(value.pid) &&
      typeof value.host === 'string' &&
      typeof value.command === 'string' &&
      typeof value.since === 'string' &&
      typeof value.token === 'string';
    return complete ? (value as LockHolder) : null;
  } catch {
    return null;
  }
}

/**
 * Whether the holder may still have the database open. Only a process on this host can be asked;
 * elsewhere (a data directory on a shared disk) it counts as running. This process's own pid in a
 * lock it does not hold was left by an earlier process that had the same pid (a restarted
 * container, where pubcat is pid 1 every time).
 */
function mayBeRunning(path: string, holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return heldHere.has(path);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes a stale lock unless another process replaced it since it was read: the file is moved
 * aside in one step (only one mover gets it), and put back if it turns out to be a newer lock.
 */
function removeIfUnchanged(path: string, staleContent: string): boolean {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const moved = readFileSync(aside, 'utf8');
  try {
    if (moved === staleContent) return true;
    linkSync(aside, path);
    return false;
  } finally {
    unlinkSync(aside);
  }
}

/** `pubcat backfill (pid 1234, since 2024-05-01 09:30:00 UTC)`, with the host when it is another one. */
export function describeHolder(holder: LockHolder): string {
  const where = holder.host === hostname() ? '' : ` on ${holder.host}`;
  const since = holder.since.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
  return `${holder.command} (pid ${holder.pid}${where}, since ${since})`;
}

function inUseError(dataDir: string, holder: LockHolder): DatabaseError {
  return new DatabaseError(
    `the embedded database in ${dataDir} is in use by ${describeHolder(holder)}; ` +
      'wait for it to finish or point DATABASE_URL at a PostgreSQL server to run several processes',
    { input: { dataDir, holder } },
  );
}

/** `pubcat backfill 123 --json` → `pubcat backfill`; `pubcat search add NAME Q` → `pubcat search add`. */
function commandName(argv: readonly string[]): string {
  const script = argv[1] === undefined ? 'node' : basename(argv[1]).replace(/\.[cm]?js$/, '');
  const program = script === 'cli' ? 'pubcat' : script;
  const words: string[] = [];
  for (const argument of argv.slice(2, 4)) {
    if (!/^[a-z][a-z-]*$/.test(argument)) break;
    words.push(argument);
  }
  return [program, ...words].join(' ');
}
