/** `pubcat backfill`, `show` and `status` as a user runs them: child processes, fake NCBI, real databases. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, cliBackends, type TestDatabase } from '../support/databases.js';
import { CLI_PATH, childEnvironment, runCli } from '../support/cli.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { stockServer } from '../support/pipeline.js';

const seedRecord = JSON.parse(readFileSync(new URL('../fixtures/seed-record/31810187.record.json', import.meta.url), 'utf8'));

describe.each(backends)('pubcat backfill on $name', (backend) => {
  // Reading input and arguments does not depend on the database: once is enough.
  const onceAcrossBackends = it.runIf(backend === cliBackends[0]);
  let database: TestDatabase;
  let server: FakeEutils;
  let workDir: string;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
    workDir = await mkdtemp(join(tmpdir(), 'pubcat-cli-'));
    env = { ...database.env, EUTILS_BASE_URL: server.url, PUBCAT_MAX_RPS: '3', NCBI_EMAIL: 'pubcat-tests@example.org' };
  });
  afterEach(async () => {
    await server.close();
    await database.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('gives the seed record back through show --json, and its history through show --history', async () => {
    stockServer(server);
    const [load, show, history, unknown] = await database.whileDetached(async () => [
      await runCli(['backfill', '31810187', '--json'], env),
      await runCli(['show', '31810187', '--json'], env),
      await runCli(['show', '31810187', '--history'], env),
      await runCli(['show', '424242'], env),
    ]);
    expect(load.code).toBe(0);
    expect(JSON.parse(load.stdout)).toEqual({
      run_id: 1, requested: 1, inserted: 1, updated: 0, unchanged: 0, deleted: 0, missing: 0, failed: 0, invalid: 0, older: 0,
    });
    expect(load.stderr).toMatch(/^backfill run 1: 1 requested, 1 inserted, 0 updated, 0 unchanged, 0 deleted, 0 missing, 0 failed in [\d.]+s$/m);
    expect(JSON.parse(show.stdout)).toEqual(seedRecord);
    expect(history.stdout).toMatch(/^PMID 31810187 {2}pubmed-6947442 {2}active, 1 version\n {2}v1 {2}insert {3}\S+ {2}run 1 \(backfill\) {2}pubmed-6947442\n$/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('pubcat: PMID 424242 is not in the catalogue (load it with `pubcat backfill 424242`)\n');
  });

  onceAcrossBackends('reports bad input lines with their line numbers, skips them and counts them', async () => {
    stockServer(server);
    const file = join(workDir, 'pmids.txt');
    writeFileSync(file, '31810187\nPMID:31810187\n\nnot-a-pmid\n0\n  pmid: 31810187  \n');
    const result = await database.whileDetached(() => runCli(['backfill', '--file', file, '--json'], env));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ requested: 1, inserted: 1, invalid: 2 });
    const skipped = result.stderr.split('\n').filter((line) => line.includes('skipped')).map((line) => JSON.parse(line).msg);
    expect(skipped).toEqual([
      `skipped "not-a-pmid" at ${file} line 4, column 1: not a PMID (a positive whole number, optionally prefixed PMID:)`,
      `skipped "0" at ${file} line 5, column 1: PMIDs start at 1`,
    ]);
  });

  onceAcrossBackends('reads PMIDs from stdin with --file -', async () => {
    stockServer(server);
    const result = await database.whileDetached(() => runCli(['backfill', '--file', '-', '--json'], env, '31810187\n31810187\n'));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ requested: 1, inserted: 1 });
  });

  onceAcrossBackends('refuses to start without any PMID source, and refuses a bad --batch-size', async () => {
    // Both are refused before the database is opened.
    const empty = await runCli(['backfill'], env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe('pubcat: nothing to backfill: give PMIDs, --file FILE (- for stdin) or --query QUERY\n');
    const badSize = await runCli(['backfill', '1', '--batch-size', '0'], env);
    expect(badSize.code).toBe(1);
    expect(badSize.stderr).toBe(
      "pubcat: option '--batch-size <n>' argument '0' is invalid. Expected a whole number from 1 to 10000 (see pubcat backfill --help)\n",
    );
  });

  it('resumes after SIGKILL and ends with exactly the records of an uninterrupted run', async () => {
    const pmids = stockServer(server, 600);
    server.setLatency({ fixedMs: 150 });
    const file = join(workDir, 'pmids.txt');
    writeFileSync(file, `${pmids.join('\n')}\n`);
    const args = ['backfill', '--file', file, '--batch-size', '50', '--json'];
    const resumed = await database.whileDetached(async () => {
      const child = spawn(process.execPath, [CLI_PATH, ...args], { env: childEnvironment(env), stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      // Kill it once several batches have been fetched (and some loaded), mid-run.
      while (server.requests.filter((request) => request.utility === 'efetch').length < 5) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      child.kill('SIGKILL');
      await exited;
      return runCli(args, env);
    });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/backfill run 1 \(resumed\): 600 requested, 600 inserted, 0 updated, 0 unchanged/);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ run_id: 1, requested: 600, inserted: 600, failed: 0 });
    const versions = await database.db
      .selectFrom('catalogue_record_version')
      .select(['version', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('version')
      .execute();
    expect(versions.map((row) => [row.version, Number(row.n)])).toEqual([[1, 600]]);
    const runs = await database.db.selectFrom('etl_run').select(['id', 'status']).execute();
    expect(runs).toEqual([{ id: 1, status: 'succeeded' }]);
  });
});
