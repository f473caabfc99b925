import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDataDirFailure } from '../../src/load/data-dir-access.js';
import { runCli } from '../support/cli.js';

const FIX = 'PUBCAT_DATA_DIR must be a directory pubcat can create and write';

describe('a PUBCAT_DATA_DIR pubcat cannot use', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'pubcat-data-dir-'));
  });
  afterAll(async () => {
    await chmod(join(scratch, 'read-only'), 0o755).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  });

  it('that is a file: exits 1 with one line naming it and saying it is not a directory', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, 'not a database\n');
    const result = await runCli(['status'], { PUBCAT_DATA_DIR: file });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`pubcat: cannot open the embedded database in ${file}: it is a file, not a directory (EEXIST); ${FIX}\n`);
  });

  it('below a file: exits 1 with one line saying a part of the path is a file', async () => {
    const file = join(scratch, 'another-file');
    await writeFile(file, 'not a database\n');
    const result = await runCli(['status'], { PUBCAT_DATA_DIR: join(file, 'db') });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `pubcat: cannot open the embedded database in ${join(file, 'db')}: a part of the path is a file, not a directory (ENOTDIR); ${FIX}\n`,
    );
  });

  // Refused by its permission bits, root or not, as PGlite's own file system would refuse it.
  it('without write permission: exits 1 at once with one line saying permission is denied', async () => {
    const readOnly = join(scratch, 'read-only');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    const result = await runCli(['status'], { PUBCAT_DATA_DIR: readOnly });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`pubcat: cannot open the embedded database in ${readOnly}: permission denied (EACCES); ${FIX}\n`);
  });

  it.skipIf(process.platform !== 'linux')('in /proc: exits 1 with one line naming it and why nothing can be written there', async () => {
    const result = await runCli(['status'], { PUBCAT_DATA_DIR: '/proc' });
    expect(result.code).toBe(1);
    // Root may create files in /proc's directory by its permissions, yet the kernel refuses them.
    expect(result.stderr).toMatch(
      new RegExp(`^pubcat: cannot open the embedded database in /proc: (files cannot be created in it \\(ENOENT\\)|permission denied \\(EACCES\\)); ${FIX}\\n$`),
    );
  });
});

describe('describeDataDirFailure', () => {
  it("names the error of PGlite's file system, which has a number and no message", () => {
    // What PGlite throws for a directory its file system may not write (WASI errno 2).
    expect(describeDataDirFailure({ name: 'ErrnoError', errno: 2 })).toBe(`permission denied (EACCES); ${FIX}`);
    expect(describeDataDirFailure({ name: 'ErrnoError', errno: 999 })).toBe(`file system error errno 999; ${FIX}`);
  });
});
