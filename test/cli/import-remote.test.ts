/** `pubcat import --remote` as a user runs it: summary and JSON, a download given up, arguments refused. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, childEnvironment, runCli } from '../support/cli.js';
import { bulkXml } from '../support/bulk-files.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeNcbiFiles, type FakeNcbiFiles } from '../support/fake-ncbi-files.js';

const seedArticle = /<PubmedArticle>[\s\S]*<\/PubmedArticle>/.exec(readFileSync(new URL('../fixtures/seed/efetch-pubmed-31810187.xml', import.meta.url), 'utf8'))![0];
const NAME = 'pubmed25n1301.xml.gz';

describe.each(backends)('pubcat import --remote on $name', (backend) => {
  let database: TestDatabase;
  let files: FakeNcbiFiles;
  let scratch: string;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    files = await startFakeNcbiFiles();
    scratch = await mkdtemp(join(tmpdir(), 'pubcat-cli-remote-'));
    // With PostgreSQL the data directory holds the downloads only.
    const dataDir = database.env.DATABASE_URL === undefined ? database.env.PUBCAT_DATA_DIR : scratch;
    env = { ...database.env, PUBCAT_DATA_DIR: dataDir, PUBCAT_FILES_BASE_URL: files.url, PUBCAT_NCBI_ATTEMPTS: '2' };
  });
  afterEach(async () => {
    await files.close();
    await database.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('imports the update files with --json, gives up with one line naming the URL, and refuses paths beside --remote', async () => {
    files.put('updates', NAME, gzipSync(bulkXml({ records: [seedArticle] })));
    const [imported, failing, refused] = await database.whileDetached(async () => {
      const ok = await runCli(['import', '--remote', 'updates', '--json', '--keep-downloads'], env);
      files.failNext('', 503, 2);
      const gaveUp = await runCli(['import', '--remote', 'updates'], env);
      const withPaths = await runCli(['import', '--remote', 'baseline', './files'], env);
      return [ok, gaveUp, withPaths];
    });
    expect(imported.stderr).toMatch(/^import run 1: 1 requested, 1 inserted, 0 updated, 0 unchanged, 0 deleted, 0 missing, 0 failed in [\d.]+s; files: 1 imported, 0 skipped, 0 refused$/m);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ run_id: 1, requested: 1, inserted: 1, failed: 0, files: 1, files_skipped: 0, files_refused: 0 });
    expect(await readdir(join(env.PUBCAT_DATA_DIR!, 'downloads'))).toEqual([NAME, `${NAME}.md5`]);

    expect(failing.code).toBe(1);
    expect(failing.stderr.trimEnd().split('\n').at(-1)).toBe(`pubcat: gave up on ${files.url}updatefiles/ after 2 attempts: HTTP 503`);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trimEnd().split('\n').at(-1)).toBe('pubcat: --remote baseline downloads its files: give no paths with it (got ./files)');
    const runs = await database.db.selectFrom('etl_run').select(['id', 'status', 'error']).orderBy('id').execute();
    expect(runs).toEqual([
      { id: 1, status: 'succeeded', error: null },
      { id: 2, status: 'failed', error: expect.stringContaining(`gave up on ${files.url}updatefiles/`) },
    ]);
  });

  it('stops on SIGTERM while a download waits, exits 143, and the same command then imports the file', async () => {
    files.put('updates', NAME, gzipSync(bulkXml({ records: [seedArticle] })));
    files.stallNext(NAME);
    const [stopped, again] = await database.whileDetached(async () => {
      const child = spawn(process.execPath, [CLI_PATH, 'import', '--remote', 'updates'], { env: childEnvironment(env), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      while (!files.requests.some((request) => request.path.endsWith(`/${NAME}`)) && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGTERM');
      const code = await exited;
      return [{ code, stderr }, await runCli(['import', '--remote', 'updates', '--json'], env)];
    });
    expect(stopped.code).toBe(143);
    expect(stopped.stderr.trimEnd().split('\n').at(-1)).toBe('pubcat: import run 1 stopped by SIGTERM; run the same command again to resume where it stopped');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ run_id: 2, inserted: 1, files: 1 });
  });
});
