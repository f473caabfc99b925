/** What a person at the terminal reads: the version, one-line usage errors, messages and warnings. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, type TestDatabase } from '../support/databases.js';
import { runCli, type CliResult } from '../support/cli.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { stockServer } from '../support/pipeline.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const NCBI_EMAIL_WARNING = 'NCBI_EMAIL is not set: NCBI asks E-utilities clients for a contact address (set NCBI_EMAIL=you@example.org)';

describe('pubcat without a database', () => {
  it('prints the version of its package.json for --version and -V', async () => {
    const results = await Promise.all([runCli(['--version'], {}), runCli(['-V'], {})]);
    for (const result of results) expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('answers a mistyped command with one line suggesting the right one, and exit 1', async () => {
    const result = await runCli(['bakfill', '1'], {});
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe("pubcat: unknown command 'bakfill' (did you mean backfill?)\n");
  });

  it('answers a mistyped option with one line suggesting the right one', async () => {
    const result = await runCli(['show', '1', '--jsn'], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("pubcat: unknown option '--jsn' (did you mean --json?)\n");
  });

  it('refuses LOG_FORMAT=bogus with one line naming the variable and its values', async () => {
    const result = await runCli(['status'], { LOG_FORMAT: 'bogus' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('pubcat: LOG_FORMAT="bogus" is not valid: expected json or pretty (unset: pretty on a terminal, json otherwise)\n');
  });

  it('says once that 123abc is not a PMID, and what a PMID is', async () => {
    const result = await runCli(['show', '123abc'], { LOG_LEVEL: 'INFO' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('pubcat: 123abc is not a PMID (a positive whole number, optionally prefixed PMID:)\n');
  });

  it('writes readable log lines with LOG_FORMAT=pretty even into a pipe, without colour codes', async () => {
    const result = await runCli(['backfill'], { LOG_FORMAT: 'pretty' });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toMatch(/^\[\d\d:\d\d:\d\d [+-]\d{4}\] WARN: NCBI_EMAIL is not set: NCBI asks /);
    expect(result.stderr).not.toMatch(/\x1b\[/);
  });

  it('gives no NCBI_EMAIL warning once the variable is set', async () => {
    const result = await runCli(['backfill'], { NCBI_EMAIL: 'pubcat-tests@example.org' });
    expect(result.stderr).toBe('pubcat: nothing to backfill: give PMIDs, --file FILE (- for stdin) or --query QUERY\n');
  });
});

describe.each(backends)('pubcat on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let env: Record<string, string | undefined>;
  let firstRun: CliResult;

  // One first run (no NCBI_EMAIL, a new database, one PMID NCBI does not have) serves every test.
  beforeAll(async () => {
    database = await backend.open({ migrated: false, onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
    stockServer(server);
    env = { ...database.env, EUTILS_BASE_URL: server.url };
    firstRun = await database.whileDetached(() => runCli(['backfill', '31810187', '99999998'], env));
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await database?.close();
  });

  it('warns once on a first run that NCBI_EMAIL is unset, and says nothing about migrations', () => {
    expect(firstRun.code).toBe(0);
    const logLines = firstRun.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(logLines).toEqual([expect.objectContaining({ level: 40, msg: NCBI_EMAIL_WARNING })]);
    expect(firstRun.stderr).not.toContain('skipped');
  });

  it('accepts LOG_LEVEL=INFO and counts 1 missing PMID in the singular', async () => {
    const status = await database.whileDetached(() => runCli(['status'], { ...env, LOG_LEVEL: 'INFO' }));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('missing   1 PMID (latest: 99999998)\n');
  });

  it('says a PMID is not in the catalogue, and how to load it', async () => {
    const show = await database.whileDetached(() => runCli(['show', '99999999'], env));
    expect(show.code).toBe(1);
    expect(show.stderr).toBe('pubcat: PMID 99999999 is not in the catalogue (load it with `pubcat backfill 99999999`)\n');
  });
});
