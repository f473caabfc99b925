/** `pubcat retransform` as a user runs it: rebuilds from stored XML, on real databases, with NCBI never asked. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TRANSFORM_VERSION } from '../../src/transform/index.js';
import { CLI_PATH, childEnvironment, runCli } from '../support/cli.js';
import { backends, cliBackends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';
import { breakStoredXml, builtByOlderRule, builtByOlderVersion, seedStoredCatalogue } from '../support/stored-catalogue.js';

const seedRecord = JSON.parse(readFileSync(new URL('../fixtures/seed-record/31810187.record.json', import.meta.url), 'utf8'));
const SEED_PMID = 31810187;
const OLDER = TRANSFORM_VERSION - 1;

describe.each(backends)('pubcat retransform on $name', (backend) => {
  // What these check is the command's, not the database's: once is enough.
  const onceAcrossBackends = it.runIf(backend === cliBackends[0]);
  let database: TestDatabase;
  let server: FakeEutils;
  let env: Record<string, string | undefined>;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 2 } });
    env = { ...database.env, EUTILS_BASE_URL: server.url, NCBI_EMAIL: 'pubcat-tests@example.org', PUBCAT_BATCH_SIZE: '20' };
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  const versionsOf = (runId: number) =>
    database.db.selectFrom('catalogue_record_version').select(['pmid', 'version', 'changed_fields']).where('run_id', '=', runId).orderBy('pmid').execute();

  it('--outdated gives one new version to each record the changed rule affects, none to the others, and asks NCBI nothing', async () => {
    stockServer(server);
    await backfill(testJobContext(database, server), [SEED_PMID]);
    const copies = await seedStoredCatalogue(database, 60);
    const affected = [SEED_PMID, ...copies.slice(0, 15)];
    const sameOutput = copies.slice(15, 30);
    await builtByOlderRule(database, affected, { version: OLDER });
    await builtByOlderVersion(database, sameOutput, OLDER);
    const checkedBefore = await database.db.selectFrom('catalogue_record').select(['pmid', 'last_checked_at']).where('pmid', 'in', sameOutput).orderBy('pmid').execute();
    const requestsBefore = server.requests.length;

    const [result, history] = await database.whileDetached(async () => [
      await runCli(['retransform', '--outdated', '--json'], env),
      await runCli(['show', String(SEED_PMID), '--history'], env),
    ]);
    expect(result.stderr).toMatch(/^retransform run 3: 31 requested, 0 inserted, 16 updated, 15 unchanged, 0 deleted, 0 missing, 0 failed in [\d.]+s$/m);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ run_id: 3, requested: 31, inserted: 0, updated: 16, unchanged: 15, failed: 0 });
    expect(server.requests.length).toBe(requestsBefore);

    const written = await versionsOf(3);
    expect(written).toEqual(affected.sort((a, b) => a - b).map((pmid) => ({ pmid, version: 2, changed_fields: ['title'] })));
    const stamps = await database.db.selectFrom('catalogue_record').select('transform_version').distinct().execute();
    expect(stamps).toEqual([{ transform_version: TRANSFORM_VERSION }]);
    const checkedAfter = await database.db.selectFrom('catalogue_record').select(['pmid', 'last_checked_at']).where('pmid', 'in', sameOutput).orderBy('pmid').execute();
    expect(checkedAfter).toEqual(checkedBefore);
    // Rebuilt from its stored PubMed and PMC XML, the seed article is again what NCBI's data makes.
    const seed = await database.db.selectFrom('catalogue_record').select('record').where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(seed.record).toEqual(seedRecord);
    expect(history.stdout).toMatch(/^ {2}v2 {2}update {3}\S+ {2}run 3 \(retransform\) {2}pubmed-6947442 {2}changed: title$/m);

    const again = await database.whileDetached(() => runCli(['retransform', '--outdated', '--json'], env));
    expect(JSON.parse(again.stdout)).toMatchObject({ requested: 0, updated: 0, unchanged: 0 });
  });

  onceAcrossBackends('counts a record whose stored XML no longer parses as failed, with its PMID and reason, and rebuilds the rest', async () => {
    const copies = await seedStoredCatalogue(database, 30);
    const broken = copies[7]!;
    await breakStoredXml(database, broken);
    await builtByOlderRule(database, copies);
    const result = await database.whileDetached(() => runCli(['retransform', '--all', '--json'], env));
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ requested: 30, updated: 29, failed: 1 });
    expect(result.stderr).toContain(`PMID ${broken} failed: transform: `);
    expect(result.stderr).toMatch(/^pubcat: retransform run 2 is partial: /m);
    const kept = await database.db.selectFrom('catalogue_record').select(['version', 'content_hash']).where('pmid', '=', broken).executeTakeFirstOrThrow();
    expect(kept).toEqual({ version: 1, content_hash: `built-by-an-older-rule${broken}` });
  });

  onceAcrossBackends('rebuilds given PMIDs, and fails the ones not in the catalogue naming the fix', async () => {
    const copies = await seedStoredCatalogue(database, 5);
    await builtByOlderRule(database, copies);
    const result = await database.whileDetached(() => runCli(['retransform', String(copies[1]), `${copies[3]},424242`, '--json'], env));
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ requested: 3, updated: 2, failed: 1 });
    expect(result.stderr).toContain('PMID 424242 failed: not in the catalogue, so there is no stored XML to rebuild it from (load it with `pubcat backfill 424242`)');
    expect((await versionsOf(2)).map((row) => row.pmid)).toEqual([copies[1], copies[3]]);
  });

  onceAcrossBackends('refuses a selection that is not exactly one of PMIDs, --all and --outdated', async () => {
    const result = await runCli(['retransform', '123', '--all'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('pubcat: retransform needs exactly one of: PMIDs, --all, or --outdated (records built by an older transform)\n');
  });

  // Enough batches for the kill to land mid-run; the embedded database, slower to fill, gets fewer records in smaller batches.
  const stored = backend.name === 'pglite' ? 600 : 2_000;
  it(`resumes a run of ${stored} records after SIGKILL and ends with the catalogue of an uninterrupted run`, async () => {
    const copies = await seedStoredCatalogue(database, stored);
    const bigBatches = { ...env, PUBCAT_BATCH_SIZE: String(stored / 10) };
    const expected = await database.db.selectFrom('catalogue_record').select(['pmid', 'content_hash']).orderBy('pmid').execute();
    await builtByOlderRule(database, copies);
    // The first bad record's warning tells the test that loads are under way.
    const broken = [copies[stored / 4]!, copies[(stored * 17) / 20]!];
    for (const pmid of broken) await breakStoredXml(database, pmid);
    const resumed = await database.whileDetached(async () => {
      const child = spawn(process.execPath, [CLI_PATH, 'retransform', '--all', '--json'], { env: childEnvironment(bigBatches), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      while (!stderr.includes(String(broken[0])) && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGKILL');
      await exited;
      expect(stderr).not.toContain('retransform run 2:');
      return runCli(['retransform', '--all', '--json'], bigBatches);
    });
    expect(resumed.stderr).toMatch(
      new RegExp(`^retransform run 2 \\(resumed\\): ${stored} requested, 0 inserted, ${stored - 2} updated, 0 unchanged, 0 deleted, 0 missing, 2 failed`, 'm'),
    );
    const after = await database.db.selectFrom('catalogue_record').select(['pmid', 'content_hash']).orderBy('pmid').execute();
    const brokenSet = new Set(broken);
    expect(after.filter((row) => !brokenSet.has(row.pmid))).toEqual(expected.filter((row) => !brokenSet.has(row.pmid)));
    const versions = await database.db
      .selectFrom('catalogue_record_version')
      .select(['version', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('version')
      .orderBy('version')
      .execute();
    expect(versions.map((row) => [row.version, Number(row.n)])).toEqual([[1, stored], [2, stored - 2]]);
  }, 240_000);
});
