/** How `pubcat backfill` reads PMID lists, as a user runs it: child processes, fake NCBI, real databases. */
import { writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INVALID_ITEMS_LOGGED } from '../../src/pipeline/invalid-input-log.js';
import { cliBackends, type TestDatabase } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords, replicateRecords } from '../support/ncbi-fixtures.js';
import { stockServer } from '../support/pipeline.js';

const NOT_A_PMID = 'not a PMID (a positive whole number, optionally prefixed PMID:)';

/** The `msg` of every pino line on stderr that reports skipped input. */
function skippedMessages(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg)
    .filter((message) => message.startsWith('skipped '));
}

describe.each(cliBackends)('pubcat backfill input on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let workDir: string;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
    stockServer(server);
    // The seed article plus a second PMID, as a user would paste them.
    server.addPubmedRecords(replicateRecords(loadPubmedFixtureRecords(), [30108519]));
    workDir = await mkdtemp(join(tmpdir(), 'pubcat-cli-input-'));
    env = { ...database.env, EUTILS_BASE_URL: server.url, PUBCAT_MAX_RPS: '3' };
  });
  afterEach(async () => {
    await server.close();
    await database.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('loads a comma-separated list given as one quoted argument, and given as several arguments', async () => {
    const [quoted, split] = await database.whileDetached(async () => [
      await runCli(['backfill', '31810187, 30108519', '--json'], env),
      await runCli(['backfill', '31810187,', '30108519', '--json'], env),
    ]);
    expect([quoted.code, split.code], quoted.stderr + split.stderr).toEqual([0, 0]);
    expect(JSON.parse(quoted.stdout)).toMatchObject({ requested: 2, inserted: 2, invalid: 0 });
    expect(JSON.parse(split.stdout)).toMatchObject({ requested: 2, unchanged: 2, invalid: 0 });
    expect(skippedMessages(quoted.stderr + split.stderr)).toEqual([]);
  });

  it('loads every PMID of a file separated by tabs, commas and newlines, and reports a bad one by line and column', async () => {
    const file = join(workDir, 'ids.txt');
    writeFileSync(file, '31810187,\t30108519\r\n\nPMID: 31810187,,\t12a  30108519,\n');
    const result = await database.whileDetached(() => runCli(['backfill', '--file', file, '--json'], env));
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ requested: 2, inserted: 2, invalid: 1 });
    expect(skippedMessages(result.stderr)).toEqual([`skipped "12a" at ${file} line 3, column 18: ${NOT_A_PMID}`]);
  });

  it('logs the first invalid lines one by one and then one summary, counting every one, without asking NCBI', async () => {
    const file = join(workDir, 'garbage.txt');
    writeFileSync(file, Array.from({ length: 1_000 }, (_, index) => `bad-${index + 1}\n`).join(''));
    const result = await database.whileDetached(() => runCli(['backfill', '--file', file, '--json'], env));
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ requested: 0, invalid: 1_000 });
    const skipped = skippedMessages(result.stderr);
    expect(skipped).toHaveLength(INVALID_ITEMS_LOGGED + 1);
    expect(skipped[0]).toBe(`skipped "bad-1" at ${file} line 1, column 1: ${NOT_A_PMID}`);
    expect(skipped.at(-1)).toBe(`skipped ${1_000 - INVALID_ITEMS_LOGGED} more invalid input items, not logged one by one (1000 in all)`);
    expect(server.requests).toEqual([]);
  });
});

describe('pubcat backfill --query', () => {
  it('refuses an empty or blank query in one line, before touching the database', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pubcat-cli-query-'));
    try {
      for (const query of ['', '  \t']) {
        const result = await runCli(['backfill', '--query', query], { PUBCAT_DATA_DIR: dataDir, NCBI_EMAIL: 'tests@example.org' });
        expect(result.code).toBe(1);
        expect(result.stderr).toBe('pubcat: --query is empty: give a PubMed query, as typed in PubMed\n');
      }
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
