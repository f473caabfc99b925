/** `pubcat enrich` as a user runs it: PMC parts for records loaded without them, summary and JSON. */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';

const seedRecord = JSON.parse(readFileSync(new URL('../fixtures/seed-record/31810187.record.json', import.meta.url), 'utf8'));
const SEED_PMID = 31810187;

describe.each(backends)('pubcat enrich on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;

  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils({ latency: { fixedMs: 1 } });
    stockServer(server);
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  it('turns a record a --no-pmc backfill loaded into the seed record, and prints the run summary', async () => {
    const context = testJobContext(database, server);
    await backfill({ ...context, settings: { ...context.settings, pmc: false } }, [SEED_PMID]);
    const env = { ...database.env, EUTILS_BASE_URL: server.url, NCBI_EMAIL: 'pubcat-tests@example.org' };
    const result = await database.whileDetached(() => runCli(['enrich', '--json'], env));
    expect(result.stderr).toMatch(/^enrich run 2: 1 requested, 0 inserted, 1 updated, 0 unchanged, 0 deleted, 0 missing, 0 failed in [\d.]+s$/m);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      run_id: 2, requested: 1, inserted: 0, updated: 1, unchanged: 0, deleted: 0, missing: 0, failed: 0, invalid: 0, older: 0,
    });
    const stored = await database.db.selectFrom('catalogue_record').select('record').where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(stored.record).toEqual(seedRecord);
  });
});
