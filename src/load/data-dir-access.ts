/**
 * Whether the embedded database's directory can be used, and why not, in words. Node's file system
 * errors carry a `code` (EACCES) and a message naming a file of pubcat's own (a lock draft with a
 * random suffix); PGlite's carry only the number of its WebAssembly file system (WASI numbering)
 * and no message at all, which printed as "[object Object]".
 */
import { stat } from 'node:fs/promises';

/** WASI errno → code, for the errors a data directory can run into. */
const WASI_CODES: Readonly<Record<number, string>> = {
  2: 'EACCES',
  20: 'EEXIST',
  31: 'EISDIR',
  44: 'ENOENT',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  63: 'EPERM',
  69: 'EROFS',
};

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'files cannot be created in it',
  ENOSPC: 'no space left on the device',
};

const FIX = 'PUBCAT_DATA_DIR must be a directory pubcat can create and write';

/**
 * PGlite's file system goes by a directory's permission bits alone, for root too, and meets a
 * directory it may not write only after building a new database in memory, seconds in: refuse
 * such a directory at once, as PGlite would.
 */
export async function refuseUnwritableDataDir(dataDir: string): Promise<void> {
  const { mode } = await stat(dataDir);
  if ((mode & 0o222) === 0) throw Object.assign(new Error(`${dataDir} is not writable`), { code: 'EACCES' });
}

/** One line: what went wrong, and for a file system error the fix. */
export function describeDataDirFailure(error: unknown): string {
  const code = codeOf(error);
  // mkdir says EEXIST when the path itself is a file.
  const reason = code === 'EEXIST' && (error as { syscall?: unknown }).syscall === 'mkdir' ? 'it is a file, not a directory' : REASONS[code ?? ''];
  if (reason !== undefined) return `${reason} (${code}); ${FIX}`;
  if (error instanceof Error && error.message.trim() !== '') return error.message;
  if (code !== undefined) return `file system error ${code}; ${FIX}`;
  return typeof error === 'object' && error !== null ? `${String((error as { name?: unknown }).name ?? 'an error')} with no message` : String(error);
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === 'string') return code;
  return typeof errno === 'number' ? (WASI_CODES[errno] ?? `errno ${errno}`) : undefined;
}
