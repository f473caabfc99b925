/**
 * The analysts' questions on 200,000 records (the PubMed fixtures copied under new PMIDs; 20,000
 * with --quick), each asked of the analysts' schema and, for comparison, of the JSON documents
 * with no index (the way they had to be asked before):
 * - records with a MeSH term: record_mesh vs derived->'topic_facet' ? term;
 * - full text over title and abstract: search_text @@ query vs to_tsvector over the JSON;
 * - the counts of one facet: v_facet_counts vs counting topic_facet elements of active records;
 * - what changed since a date: v_record_changes vs comparing consecutive versions' records
 *   (v_record_history, which shows every version's record: the current one is catalogue_record's).
 * Each schema query must use an index (its EXPLAIN is checked and printed) and take < 0.05× the
 * JSON query's time (best of three runs each). A 2 % sample of the records gets a new title a
 * "day" after the rest and after another 2 % did, so "since yesterday" is the selective question
 * it is in practice.
 * It creates a scratch database and drops it at the end.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/analyst.js [--quick]
 * (DATABASE_URL or TEST_DATABASE_URL; default postgres://postgres@127.0.0.1:5432/test)
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { openDatabase, type CatalogueDatabase, type DatabaseTarget } from '../src/load/db.js';
import { migrate } from '../src/load/migrate.js';
import { upsertBatch } from '../src/load/upsert.js';
import { toUpsertRow, type UpsertRow } from '../src/load/upsert-row.js';
import { transformPubmedRecord } from '../src/transform/index.js';
import { withScratchDatabase } from './scratch-database.js';
import { loadPubmedFixtureRecords, replicateRecords } from '../test/support/ncbi-fixtures.js';

const QUICK = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1';
const RECORDS = QUICK ? 20_000 : 200_000;
const BATCH_SIZE = 1_000;
const FIRST_PMID = 40_000_000;
const CHANGED_EVERY = 50;
const TARGET = 0.05;

/**
 * One transformed row per fixture article, and copies of it under other PMIDs: the PMID is the
 * only difference between copies (replicateRecords), so swapping it in the row's text gives what
 * the transform would build, at string-replace cost.
 */
function rowFactory(): (index: number, retitled: boolean) => UpsertRow {
  const templates = loadPubmedFixtureRecords();
  const rows = replicateRecords(templates, templates.filter((t) => t.kind === 'article').map((t) => t.pmid)).map(({ pmid, xml }) =>
    toUpsertRow(transformPubmedRecord({ pmid, kind: 'article', xml })),
  );
  return (index, retitled) => {
    const template = rows[index % rows.length]!;
    const pmid = FIRST_PMID + index;
    const swap = (text: string) => text.replaceAll(String(template.pmid), String(pmid));
    const title = retitled ? `${template.title} (corrected)` : template.title;
    const recordJson = swap(template.record_json);
    return {
      ...template,
      pmid,
      catalogue_id: `pmid-${pmid}`,
      content_hash: `${template.content_hash.slice(0, 40)}${String(pmid).padStart(12, '0')}${retitled ? 'r' : ''}`,
      record_json: retitled ? recordJson.replaceAll(JSON.stringify(template.title), JSON.stringify(title)) : recordJson,
      derived_json: swap(template.derived_json),
      title,
      // As in PubMed, most authors are in few records (here 5,000 namesakes of each), so the
      // facet table is large and a single facet is a small part of it.
      facet_values: template.facet_values.map((value, index) => (template.facet_names[index] === 'author' ? `${value} ${pmid % 5_000}` : value)),
      pubmed_xml: swap(template.pubmed_xml),
    };
  };
}

async function load(target: DatabaseTarget, rows: (index: number) => UpsertRow, indexes: number[]): Promise<void> {
  const run = await target.db.insertInto('etl_run').values({ job: 'backfill', replica: 'bench' }).returning('id').executeTakeFirstOrThrow();
  for (let start = 0; start < indexes.length; start += BATCH_SIZE) {
    await upsertBatch(target, indexes.slice(start, start + BATCH_SIZE).map(rows), Number(run.id));
  }
}

interface Question {
  name: string;
  schema: string;
  json: string;
}

const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Best of three, on one connection; `noIndex` forbids every index scan, as a table without one would. */
async function bestOf(client: pg.Client, query: string, noIndex: boolean): Promise<{ ms: number; rows: number }> {
  let best = Infinity;
  let rows = 0;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    await client.query('BEGIN');
    if (noIndex) await client.query('SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off');
    const start = process.hrtime.bigint();
    const result = await client.query(query);
    best = Math.min(best, elapsedMs(start));
    rows = result.rowCount ?? 0;
    await client.query('COMMIT');
  }
  return { ms: best, rows };
}

async function indexesUsed(client: pg.Client, query: string): Promise<string[]> {
  const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query}`);
  return rows.map((row) => row['QUERY PLAN'].trim()).filter((line) => /Index (Only )?Scan|Bitmap Index Scan/.test(line));
}

export async function main(): Promise<void> {
  const failed = await withScratchDatabase(async (url) => {
    const client = new pg.Client({ connectionString: url });
    const database = await openDatabase({ databaseUrl: url, dataDir: 'unused' });
    try {
      return await askEveryQuestion(database, client);
    } finally {
      await client.end();
      await database.close();
    }
  });
  if (failed) process.exitCode = 1;
}

/** Loads the catalogue, asks each question of the schema and of the JSON; true when one missed its target. */
async function askEveryQuestion(database: CatalogueDatabase, client: pg.Client): Promise<boolean> {
  let failed = false;
  await migrate(database);
  await client.connect();
  const rows = rowFactory();
  const all = Array.from({ length: RECORDS }, (_, index) => index);
  const loadStart = process.hrtime.bigint();
  await load(database, (index) => rows(index, false), all);
  const loadSeconds = elapsedMs(loadStart) / 1000;
  // The first load and a first round of corrections happened "yesterday"; more come today.
  await load(database, (index) => rows(index, true), all.filter((index) => index % CHANGED_EVERY === CHANGED_EVERY / 2));
  await client.query(`UPDATE catalogue_record_version SET changed_at = changed_at - interval '1 day'`);
  await client.query(`UPDATE record_change SET changed_at = changed_at - interval '1 day'`);
  await load(database, (index) => rows(index, true), all.filter((index) => index % CHANGED_EVERY === 0));
  await client.query('VACUUM ANALYZE');

  const { rows: [term] } = await client.query<{ descriptor: string }>(
    `SELECT descriptor FROM record_mesh WHERE qualifier IS NULL GROUP BY descriptor ORDER BY count(*), descriptor LIMIT 1`);
  const mesh = term!.descriptor.replaceAll("'", "''");
  const since = `now() - interval '1 hour'`;
  const questions: Question[] = [
    {
      name: 'records with a MeSH term',
      schema: `SELECT pmid FROM record_mesh WHERE descriptor = '${mesh}' AND qualifier IS NULL`,
      json: `SELECT pmid FROM catalogue_record WHERE derived -> 'topic_facet' ? '${mesh}'`,
    },
    {
      name: 'full text, title + abstract',
      schema: `SELECT pmid FROM v_record WHERE search_text @@ websearch_to_tsquery('english', 'mesenchymal stromal')`,
      json: `SELECT pmid FROM catalogue_record
        WHERE to_tsvector('english', coalesce(record ->> 'title', '') || ' ' || coalesce(record ->> 'description', '')) @@ websearch_to_tsquery('english', 'mesenchymal stromal')`,
    },
    {
      name: 'counts of one facet (topic)',
      schema: `SELECT value, records FROM v_facet_counts WHERE facet = 'topic' ORDER BY records DESC, value`,
      json: `SELECT t.value, count(*) AS records FROM catalogue_record r, jsonb_array_elements_text(r.derived -> 'topic_facet') AS t(value)
        WHERE r.status = 'active' GROUP BY t.value ORDER BY records DESC, t.value`,
    },
    {
      name: 'what changed since a date',
      schema: `SELECT pmid, version, field, old_value, new_value FROM v_record_changes WHERE changed_at > ${since}`,
      json: `SELECT v.pmid, v.version, k.field, p.record -> k.field AS old_value, v.record -> k.field AS new_value
        FROM v_record_history v
        JOIN v_record_history p ON p.pmid = v.pmid AND p.version = v.version - 1
        CROSS JOIN LATERAL (SELECT jsonb_object_keys(v.record) UNION SELECT jsonb_object_keys(p.record)) AS k(field)
        WHERE v.changed_at > ${since} AND v.record -> k.field IS DISTINCT FROM p.record -> k.field`,
    },
  ];

  console.log(`analyst bench: ${RECORDS} records (first load ${(RECORDS / loadSeconds).toFixed(0)} records/s), ` +
    `${RECORDS / CHANGED_EVERY} retitled yesterday and ${RECORDS / CHANGED_EVERY} today; PostgreSQL ${database.location}; MeSH term "${term!.descriptor}"`);
  for (const question of questions) {
    const used = await indexesUsed(client, question.schema);
    const schema = await bestOf(client, question.schema, false);
    const json = await bestOf(client, question.json, true);
    const ratio = schema.ms / json.ms;
    const ok = used.length > 0 && ratio < TARGET;
    failed ||= !ok;
    console.log(`${question.name.padEnd(30)} schema ${schema.ms.toFixed(1).padStart(8)} ms (${schema.rows} rows)  JSON, no index ${json.ms.toFixed(1).padStart(9)} ms (${json.rows} rows)  ` +
      `${ratio.toFixed(4)}× (target < ${TARGET}×) ${ok ? 'ok' : 'MISSED'}`);
    for (const line of used) console.log(`    ${line}`);
    if (used.length === 0) console.log('    no index in the plan');
  }
  return failed;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
