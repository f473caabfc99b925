import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backends, type TestDatabase } from '../support/databases.js';
import { runCli } from '../support/cli.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { stockServer } from '../support/pipeline.js';

// Each command is a process that opens the database, which takes PGlite seconds: one backend is
// enough here (the server when there is one); the jobs themselves are tested on both.
const backend = backends.at(-1)!;

describe(`pubcat search and sync commands on ${backend.name}`, () => {
  let database: TestDatabase;
  let server: FakeEutils;
  beforeEach(async () => {
    database = await backend.open({ onDisk: true });
    server = await startFakeEutils();
  });
  afterEach(async () => {
    await server.close();
    await database.close();
  });

  it('saves a search, syncs it with a JSON summary and lists it as synced', async () => {
    const pmids = stockServer(server, 3);
    server.addSearch('stromal cells', pmids.map((pmid) => ({ pmid, edat: '2020/01/01' })));
    const env = { ...database.env, EUTILS_BASE_URL: server.url };
    const [added, synced, listed] = await database.whileDetached(async () => [
      await runCli(['search', 'add', 'stromal', 'stromal cells'], env),
      await runCli(['sync', '--json'], env),
      await runCli(['search', 'list', '--json'], env),
    ]);
    expect(added).toMatchObject({ code: 0, stdout: 'saved search stromal added: stromal cells (the next sync loads all of its hits)\n' });
    expect(synced.code).toBe(0);
    const summary = JSON.parse(synced.stdout);
    expect(summary).toEqual({ run_id: summary.run_id, requested: 3, inserted: 3, updated: 0, unchanged: 0, deleted: 0, missing: 0, failed: 0, invalid: 0, older: 0 });
    expect(synced.stderr).toContain(`sync run ${summary.run_id}: 3 requested, 3 inserted`);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'stromal', query: 'stromal cells', last_run_id: summary.run_id, synced_until: expect.any(String) }),
    ]);
  });
});
