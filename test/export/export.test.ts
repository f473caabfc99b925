import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport, type ExportRequest } from '../../src/export/export.js';
import { CSV_COLUMNS } from '../../src/export/formats.js';
import { StreamSink } from '../../src/export/stream-sink.js';
import { markDeleted } from '../../src/load/tombstones.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { startFakeEutils, type FakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';
import { backfill, stockServer, testJobContext } from '../support/pipeline.js';
import { makeRecord, upsertRecords } from '../support/records.js';
import { fieldsVufindRefuses, parseSolrCommands, readVufindFields } from '../support/solr-commands.js';

/** RFC 4180 rows: quoted cells may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') (cell += '"'), (i += 1);
      else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') row.push(cell), (cell = '');
    else if (char === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), (i += 1);
    else cell += char;
  }
  return rows;
}

describe.each(backends)('pubcat export on $name', (backend) => {
  let database: TestDatabase;
  let server: FakeEutils;
  let directory: string;
  let fixturePmids: number[];
  let runId: number;
  let files = 0;

  const exportText = async (request: ExportRequest, pageSize = 7): Promise<string> => {
    const path = join(directory, `export-${(files += 1)}`);
    await runExport(database, { ...request, pageSize }, await StreamSink.file(path, request.format));
    return readFile(path, 'utf8');
  };
  const activeCount = async () =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM catalogue_record WHERE status = 'active'`.execute(database.db)).rows[0]!.n);
  const databaseNow = async () => (await sql<{ now: Date }>`SELECT now() AS now`.execute(database.db)).rows[0]!.now.toISOString();

  beforeAll(async () => {
    database = await backend.open();
    server = await startFakeEutils({ latency: { fixedMs: 1 } });
    directory = await mkdtemp(join(tmpdir(), 'pubcat-export-'));
    stockServer(server);
    fixturePmids = loadPubmedFixtureRecords().map(({ pmid }) => pmid);
    await backfill(testJobContext(database, server), fixturePmids);
    runId = Number((await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow()).id);
  });
  afterAll(async () => {
    await server.close();
    await database.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('writes an add per record whose documents carry only fields VuFind declares, without copyField targets', async () => {
    const commands = parseSolrCommands(await exportText({ format: 'solr' }));
    const docs = commands.flatMap((command) => ('add' in command ? [command.add.doc] : []));
    expect(docs.length).toBe(await activeCount());
    const fields = readVufindFields();
    expect(docs.flatMap((doc) => fieldsVufindRefuses(doc, fields))).toEqual([]);
    const stored = await database.db.selectFrom('catalogue_record').select(['catalogue_id', 'record', 'derived']).execute();
    const seed = stored.find((row) => row.record.spellingShingle.length > 0 && row.derived.topic_facet !== undefined)!;
    const doc = docs.find((candidate) => candidate.id === seed.catalogue_id)!;
    expect(doc).toMatchObject({ title: seed.record.title, topic_facet: seed.derived.topic_facet, record_format: seed.record.record_format });
    for (const copy of ['spelling', 'spellingShingle', 'title_fullStr', 'title_full_unstemmed', 'author_facet']) expect(doc).not.toHaveProperty(copy);
  });

  it('turns a tombstone into a delete of its id, and a changed catalogue id into a delete of the old one', async () => {
    const since = await databaseNow();
    const tombstoned = fixturePmids[0]!;
    const { catalogue_id: goneId } = await database.db.selectFrom('catalogue_record').select('catalogue_id').where('pmid', '=', tombstoned).executeTakeFirstOrThrow();
    await markDeleted(database.db, [tombstoned], runId, 'delete-citation');
    await upsertRecords(database, [makeRecord(90_000_001)], runId);
    await upsertRecords(database, [makeRecord(90_000_001, { pmc: 9_100_001 })], runId);

    const commands = parseSolrCommands(await exportText({ format: 'solr', since }));
    expect(commands).toEqual([
      { delete: { id: goneId } },
      { delete: { id: 'pmid-90000001' } },
      { add: { doc: expect.objectContaining({ id: 'pubmed-9100001' }) } },
    ]);
  });

  it('leaves out of a Solr document a stored field that VuFind does not declare', async () => {
    const since = await databaseNow();
    const odd = makeRecord(90_000_003, { edit: ({ record }) => Object.assign(record, { pubmed_note: 'not in the schema', note_str_mv: ['dynamic'] }) });
    await upsertRecords(database, [odd], runId);
    const [command] = parseSolrCommands(await exportText({ format: 'solr', since }));
    const doc = (command as { add: { doc: Record<string, unknown> } }).add.doc;
    expect(doc).toMatchObject({ id: 'pmid-90000003', note_str_mv: ['dynamic'] });
    expect(doc).not.toHaveProperty('pubmed_note');
    expect(fieldsVufindRefuses(doc, readVufindFields())).toEqual([]);
  });

  it('writes the stored records as JSON lines and the typed columns as quoted CSV, tombstones only in the CSV', async () => {
    const since = await databaseNow();
    const tricky = makeRecord(90_000_002, { edit: ({ record }) => void (record.title = 'Commas, "quotes"\nand a line break') });
    await upsertRecords(database, [tricky], runId);
    await markDeleted(database.db, [90_000_001], runId, 'missing');

    const lines = (await exportText({ format: 'jsonl', since })).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([tricky.record]);

    const rows = parseCsv(await exportText({ format: 'csv', since }));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const byPmid = new Map(rows.slice(1).map((row) => [row[0], Object.fromEntries(CSV_COLUMNS.map((column, i) => [column, row[i]]))]));
    expect(byPmid.size).toBe(2);
    expect(byPmid.get('90000002')).toMatchObject({ title: 'Commas, "quotes"\nand a line break', status: 'active', doi: '10.3390/jcm90000002' });
    expect(byPmid.get('90000001')).toMatchObject({ catalogue_id: 'pubmed-9100001', status: 'deleted' });
  });

  it('exports under a target only what changed since its last export, each change once', async () => {
    const first = parseSolrCommands(await exportText({ format: 'solr', target: 'index' }));
    expect(first.length).toBeGreaterThan(fixturePmids.length);
    expect(parseSolrCommands(await exportText({ format: 'solr', target: 'index' }))).toEqual([]);

    await upsertRecords(database, [makeRecord(90_000_002, { revision: 1 })], runId);
    const changed = parseSolrCommands(await exportText({ format: 'solr', target: 'index' }));
    expect(changed).toEqual([{ add: { doc: expect.objectContaining({ id: 'pmid-90000002', description: expect.stringContaining('Revision 1.') }) } }]);
    expect(parseSolrCommands(await exportText({ format: 'solr', target: 'index' }))).toEqual([]);
    await expect(exportText({ format: 'csv', target: 'index' })).rejects.toThrow('export target index receives solr, not csv');
  });
});
