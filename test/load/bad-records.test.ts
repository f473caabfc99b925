import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/errors.js';
import { loadFetchedBatch, type LoadedBatch } from '../../src/load/load-batch.js';
import { dataError } from '../../src/load/refused-records.js';
import { toUpsertRow, type UpsertRow } from '../../src/load/upsert-row.js';
import { transformPubmedRecord } from '../../src/transform/index.js';
import { MAX_INDEXED_BYTES } from '../../src/transform/storable-text.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { fixtureText, recordChunks } from '../transform/pubmed-fixtures.js';

/** Ten real PubMed records, as the transform workers hand them to the load. */
const fixtureRows: UpsertRow[] = recordChunks(fixtureText('ncbi/biomedquery-jl/efetch_sample.xml')).map((chunk) =>
  toUpsertRow(transformPubmedRecord({ pmid: chunk.pmid, kind: 'article', xml: chunk.xml })),
);

const SEED_PMID = 31810187;
const seedXml = recordChunks(fixtureText('seed/efetch-pubmed-31810187.xml'))[0]?.xml ?? '';

/** Text no compression shortens (base64 of hashes), so an index entry of it really is this long. */
function incompressible(length: number, seed: string): string {
  let text = '';
  for (let i = 0; text.length < length; i += 1) text += createHash('sha512').update(`${seed}${i}`).digest('base64');
  return text.slice(0, length);
}

describe('refused-records: which errors are about the data', () => {
  const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

  it('isolates data exceptions, constraint violations and program limits, also behind a wrapping error', () => {
    expect(dataError(withCode('22021', 'invalid byte sequence'))).toEqual({ state: '22021', message: 'invalid byte sequence' });
    expect(dataError(withCode('23514'))?.state).toBe('23514');
    expect(dataError(new DatabaseError('loading a batch failed', { cause: withCode('54000', 'index row size') }))).toEqual({
      state: '54000',
      message: 'index row size',
    });
  });

  it('leaves connection losses, timeouts, serialization failures and deadlocks to fail the batch', () => {
    for (const code of ['08006', '57P01', '57014', '55P03', '40001', '40P01', 'ECONNRESET', 'EPIPE']) {
      expect(dataError(withCode(code)), code).toBeUndefined();
    }
    expect(dataError(new Error('Connection terminated unexpectedly'))).toBeUndefined();
    expect(dataError(new DatabaseError('wrapped', { cause: withCode('40001') }))).toBeUndefined();
  });
});

describe.each(backends)('a batch with records the database refuses on $name', (backend) => {
  let database: TestDatabase;
  let runId: number;
  beforeAll(async () => {
    database = await backend.open();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    runId = Number(
      (await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'test:1' }).returning('id').executeTakeFirstOrThrow()).id,
    );
  });

  const load = (rows: UpsertRow[]): Promise<LoadedBatch> =>
    database.db
      .transaction()
      .execute((trx) =>
        loadFetchedBatch(trx, database.backend, runId, { rows, deleted: [], missing: [], requested: rows.length }, { batchSize: 200 }),
      );
  const storedPmids = async (table: 'catalogue_record' | 'catalogue_record_version' | 'record_facet' | 'record_source') =>
    (await sql<{ pmid: string }>`SELECT DISTINCT pmid::text FROM ${sql.table(table)} ORDER BY 1`.execute(database.db)).rows.map((row) =>
      Number(row.pmid),
    );

  it('loads every other record and reports exactly the refused PMIDs with the database reason, on every load', async () => {
    const nul = fixtureRows[2] as UpsertRow;
    const oversized = fixtureRows[7] as UpsertRow;
    // Rows as no transform builds them: values only the database refuses.
    const rows = fixtureRows.map((row) => {
      if (row === nul) return { ...row, title: `${row.title}\0` };
      if (row === oversized) return { ...row, facet_names: [...row.facet_names, 'author'], facet_values: [...row.facet_values, incompressible(3000, 'author')] };
      return row;
    });
    const others = fixtureRows.filter((row) => row !== nul && row !== oversized).map((row) => row.pmid);

    const first = await load(rows);

    expect(first.failed).toEqual([
      { pmid: nul.pmid, reason: 'the database refused it: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)' },
      { pmid: oversized.pmid, reason: expect.stringMatching(/^the database refused it: index row size \d+ exceeds btree version 4 maximum 2704 for index "record_facet_\w+" \(SQLSTATE 54000\)$/) },
    ]);
    expect(first.counts).toEqual({ inserted: 8, updated: 0, unchanged: 0, deleted: 0, missing: 0, older: 0 });
    const loaded = [...others].sort((a, b) => a - b);
    expect(await storedPmids('catalogue_record')).toEqual(loaded);
    expect(await storedPmids('catalogue_record_version')).toEqual(loaded);
    expect(await storedPmids('record_facet')).toEqual(loaded);
    expect(await storedPmids('record_source')).toEqual(loaded);

    const again = await load(rows);

    expect(again.failed.map((failure) => failure.pmid)).toEqual([nul.pmid, oversized.pmid]);
    expect(again.counts).toEqual({ inserted: 0, updated: 0, unchanged: 8, deleted: 0, missing: 0, older: 0 });
  });

  it('loads a record cleaned of NUL, XML-forbidden characters and a 3,000-character author, journal and DOI, and an unchanged re-load writes nothing', async () => {
    const author = incompressible(3000, 'long author');
    const journal = incompressible(3000, 'long journal');
    const doi = `10.1000/${incompressible(2992, 'long doi')}`;
    const xml = seedXml
      .replace('<ArticleTitle>Short', '<ArticleTitle>\0Short\x01\uFFFE')
      .replace('<LastName>Kadri</LastName>', '<LastName>Ka\x0Bdri\0</LastName>')
      .replace('<LastName>Iacobaeus</LastName>', `<LastName>${author}</LastName>`)
      .replace('<Title>Journal of clinical medicine</Title>', `<Title>${journal}</Title>`)
      .replaceAll('>10.3390/jcm8122102<', `>${doi}<`);
    const row = toUpsertRow(transformPubmedRecord({ pmid: SEED_PMID, kind: 'article', xml }));

    const first = await load([row]);

    expect(first.failed).toEqual([]);
    expect(first.counts.inserted).toBe(1);
    const stored = await database.db
      .selectFrom('catalogue_record')
      .select(['record', 'journal', 'doi', 'title'])
      .where('pmid', '=', SEED_PMID)
      .executeTakeFirstOrThrow();
    const record = stored.record as { title: string; author: string[] };
    expect(record.title).toMatch(/^Short and Long Term Clinical/);
    expect(record.author.slice(0, 2)).toEqual([`${author}, Ellen`, 'Kadri, Nadir']);
    expect(stored).toMatchObject({ journal: journal.slice(0, MAX_INDEXED_BYTES), doi: doi.slice(0, MAX_INDEXED_BYTES), title: record.title });
    const source = await database.db.selectFrom('record_source').select('pubmed_xml').where('pmid', '=', SEED_PMID).executeTakeFirstOrThrow();
    expect(source.pubmed_xml).toBe(xml.replaceAll('\0', ''));
    const before = await rowVersions();

    const again = await load([toUpsertRow(transformPubmedRecord({ pmid: SEED_PMID, kind: 'article', xml }))]);

    expect(again).toMatchObject({ failed: [], counts: { inserted: 0, updated: 0, unchanged: 1 } });
    expect(await rowVersions()).toEqual(before);
  });

  it('reports a record whose XML held bytes that were not UTF-8 with its PMID, and loads it', async () => {
    const chunk = recordChunks(fixtureText('ncbi/metapub/23657305.xml'))[0]!;
    const [head, tail] = chunk.xml.split('</ArticleTitle>');
    const decoded = Buffer.concat([Buffer.from(head ?? ''), Buffer.from([0xff, 0xfe]), Buffer.from(`</ArticleTitle>${tail}`)]).toString('utf8');

    const loaded = await load([toUpsertRow(transformPubmedRecord({ pmid: chunk.pmid, kind: 'article', xml: decoded }))]);

    expect(loaded.counts.inserted).toBe(1);
    expect(loaded.failed).toEqual([]);
    expect(loaded.invalidEncoding).toEqual([{ pmid: chunk.pmid, reason: expect.stringMatching(/^its XML holds 2 U\+FFFD replacement character/) }]);
  });

  it.skipIf(backend.name !== 'postgres')('fails the whole batch and writes nothing when a lock wait times out: that is no refused record', async () => {
    const [locked, ...rest] = fixtureRows.map((row) => ({ ...row, pmid: row.pmid + 900_000_000, catalogue_id: `lock-${row.pmid}` }));
    const loadAfter = (setting: string, rows: UpsertRow[]) =>
      database.db.transaction().execute(async (trx) => {
        await sql.raw(setting).execute(trx);
        return loadFetchedBatch(trx, database.backend, runId, { rows, deleted: [], missing: [], requested: rows.length }, { batchSize: 200 });
      });
    await load([locked!]);
    const holder = new pg.Client({ connectionString: database.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM catalogue_record WHERE pmid = $1 FOR UPDATE', [locked!.pmid]);

      const failure = loadAfter("SET LOCAL lock_timeout = '300ms'", [...rest, locked!]);

      await expect(failure).rejects.toThrow(DatabaseError);
      await expect(failure).rejects.toMatchObject({ cause: { code: '55P03' } });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    const { rows } = await sql<{ pmid: string }>`SELECT pmid::text FROM catalogue_record WHERE pmid > 900000000`.execute(database.db);
    expect(rows.map((row) => Number(row.pmid))).toEqual([locked!.pmid]);
  });

  /** What a load wrote for the seed PMID, as row versions: a re-load that writes nothing leaves them all. */
  async function rowVersions() {
    const { rows } = await sql`
      SELECT (SELECT array_agg(xmin::text ORDER BY version) FROM catalogue_record_version WHERE pmid = ${SEED_PMID}) AS versions,
        (SELECT array_agg(xmin::text ORDER BY facet, value) FROM record_facet WHERE pmid = ${SEED_PMID}) AS facets,
        (SELECT xmin::text FROM record_source WHERE pmid = ${SEED_PMID}) AS source,
        (SELECT version || ' ' || content_hash FROM catalogue_record WHERE pmid = ${SEED_PMID}) AS current`.execute(database.db);
    return rows[0];
  }
});
