/**
 * A catalogue loaded straight from fixture copies (no NCBI, no run machinery), and the rewrite a
 * changed transform rule would undo: retransform tests start from it. A test build with a changed
 * rule is stood in for by the other side of the same difference: the stored rows are made to
 * look built by an older rule (another title, another hash, a lower transform_version), and the
 * current transform is the changed one. The XML stays as NCBI sent it.
 */
import { sql } from 'kysely';
import { startOrResumeRun } from '../../src/load/runs.js';
import { upsertBatch } from '../../src/load/upsert.js';
import { transformBatch } from '../../src/pipeline/transform-batch.js';
import type { TestDatabase } from './databases.js';
import { loadPubmedFixtureRecords, replicateRecords } from './ncbi-fixtures.js';

const SEED_BATCH = 500;

/** Loads `count` fixture copies under PMIDs from `first`, in a finished backfill run; returns their PMIDs. */
export async function seedStoredCatalogue(database: TestDatabase, count: number, first = 60_000_001): Promise<number[]> {
  const pmids = Array.from({ length: count }, (_, index) => first + index);
  const copies = replicateRecords(loadPubmedFixtureRecords(), pmids);
  const run = await startOrResumeRun(database.db, { job: 'backfill', inputKey: `seed:${first}:${count}`, params: {} });
  if (run === null) throw new Error('the seed run is held by another process');
  for (let start = 0; start < copies.length; start += SEED_BATCH) {
    const { rows, failed } = transformBatch({ records: copies.slice(start, start + SEED_BATCH).map((copy) => ({ ...copy, kind: 'article' })), pmc: [] });
    if (failed.length > 0) throw new Error(`seed copies failed to transform: ${failed[0]!.reason}`);
    await upsertBatch(database, rows, run.id);
  }
  await database.db.updateTable('etl_run').set({ status: 'succeeded' }).where('id', '=', run.id).execute();
  return pmids;
}

/** Makes the records of `pmids` look built by an older transform whose title rule differed. */
export async function builtByOlderRule(database: TestDatabase, pmids: readonly number[], options: { version?: number } = {}): Promise<void> {
  await sql`
    UPDATE catalogue_record SET record = jsonb_set(record, '{title}', '"Title as the older rule built it"'),
      content_hash = 'built-by-an-older-rule' || pmid, transform_version = coalesce(${options.version ?? null}::int, transform_version)
    WHERE pmid IN (${sql.join(pmids.map((pmid) => sql`${pmid}`))})
  `.execute(database.db);
}

/** Marks records as built by an older transform whose output was the same. */
export async function builtByOlderVersion(database: TestDatabase, pmids: readonly number[], version: number): Promise<void> {
  await database.db.updateTable('catalogue_record').set({ transform_version: version }).where('pmid', 'in', [...pmids]).execute();
}

/** Replaces the stored PubMed XML of `pmid` with XML that no longer parses. */
export async function breakStoredXml(database: TestDatabase, pmid: number): Promise<void> {
  await database.db.updateTable('record_source').set({ pubmed_xml: `<PubmedArticle><MedlineCitation><PMID>${pmid}</PMID>` }).where('pmid', '=', pmid).execute();
}
