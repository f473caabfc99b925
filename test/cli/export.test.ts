/** `pubcat export` as a child process: stdout, --post to a checking Solr, --target, and the arguments it refuses. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markDeleted } from '../../src/load/tombstones.js';
import { runCli } from '../support/cli.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeSolr, type FakeSolr } from '../support/fake-solr.js';
import { makeRecord, upsertRecords } from '../support/records.js';

describe('pubcat export arguments', () => {
  let env: Record<string, string>;
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'pubcat-export-args-'));
    env = { PUBCAT_DATA_DIR: directory };
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it.each([
    [['--format', 'xml'], /argument 'xml' is invalid.*solr, jsonl, csv/],
    [['--since', 'yesterday'], /--since yesterday is not an ISO time: give e\.g\. 2026-01-31/],
    [['--since', '2026-01-01', '--target', 'idx'], /--since.*cannot be used with.*--target/],
    [['--format', 'csv', '--post', 'http://127.0.0.1:1/solr/biblio'], /--post sends Solr update commands: use it with --format solr, not csv/],
    [['--post', 'ftp://example.org/solr'], /--post ftp:\/\/example\.org\/solr is not an http\(s\) URL/],
    [['--target', 'my index'], /--target my index is not a target name/],
    [['--batch-size', '0'], /--batch-size/],
  ])('refuses %j in one line, exit 1', async (args, message) => {
    const result = await runCli(['export', ...args], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
  });
});

// Each child process opens the database anew: give a busy machine room.
describe.each(backends)('pubcat export on $name', { timeout: 120_000 }, (backend) => {
  let database: TestDatabase;
  let solr: FakeSolr;
  const pmids = Array.from({ length: 25 }, (_, index) => 70_000_001 + index);

  beforeAll(async () => {
    database = await backend.open({ onDisk: true });
    solr = await startFakeSolr();
    const runId = Number((await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow()).id);
    await upsertRecords(database, pmids.map((pmid) => makeRecord(pmid)), runId);
    // One record moves into PMC (a new catalogue id), one is deleted at NCBI.
    await upsertRecords(database, [makeRecord(pmids[1]!, { pmc: 7_100_002 })], runId);
    await markDeleted(database.db, [pmids[2]!], runId, 'delete-citation');
  });
  afterAll(async () => {
    await solr.close();
    await database.close();
  });

  it('writes JSON lines to stdout and the summary to stderr', async () => {
    const result = await database.whileDetached(() => runCli(['export', '--format', 'jsonl'], database.env));
    expect(result.code).toBe(0);
    const ids = result.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toHaveLength(24);
    expect(ids).toContain('pubmed-7100002');
    expect(result.stderr).toMatch(/^export jsonl: 24 records, 1 tombstone left out in \d+\.\ds\n$/);
  });

  it('posts batches Solr accepts, with commitWithin and retries, then under the same target only what changed', async () => {
    solr.failNext(2);
    const args = ['export', '--post', solr.url, '--target', 'vufind', '--batch-size', '10'];
    const first = await database.whileDetached(() => runCli(args, database.env));
    expect(first.stderr).toMatch(new RegExp(`^export solr to ${solr.url}/update: 24 records, 2 deletes in \\d+\\.\\ds\\n$`));
    expect(first.code).toBe(0);
    expect(solr.refused).toEqual([]);
    expect(solr.requests).toHaveLength(2 + 3);
    expect(solr.requests.every((request) => request.path === '/solr/biblio/update' && request.commitWithin === '10000')).toBe(true);
    expect(solr.docs.size).toBe(24);
    expect(solr.deletes.sort()).toEqual([`pmid-${pmids[1]}`, `pmid-${pmids[2]}`]);

    const again = await database.whileDetached(() => runCli(args, database.env));
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/: 0 records, 0 deletes in /);
    expect(solr.requests).toHaveLength(5);

    await upsertRecords(database, [makeRecord(pmids[5]!, { revision: 1 })], Number((await database.db.selectFrom('etl_run').select('id').executeTakeFirstOrThrow()).id));
    const changed = await database.whileDetached(() => runCli(args, database.env));
    expect(changed.stderr).toMatch(/: 1 record, 0 deletes in /);
    expect(solr.requests).toHaveLength(6);
    expect(solr.docs.get(`pmid-${pmids[5]}`)).toMatchObject({ description: expect.stringContaining('Revision 1.') });
  });

  it('stops with exit 1 and Solr\'s reason in one line when Solr refuses the batch', async () => {
    const result = await database.whileDetached(() => runCli(['export', '--post', solr.url.replace('biblio', 'authority')], database.env));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`pubcat: Solr at ${solr.url.replace('biblio', 'authority')}/update answered HTTP 404: no handler /solr/authority/update\n`);
  });
});
