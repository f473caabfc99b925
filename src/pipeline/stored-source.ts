/**
 * Batches of records rebuilt from the XML stored with them (record_source): no request to NCBI.
 * Records are read in PMID order, a page at a time after the last PMID read (keyset pagination,
 * so a page costs the same at the end of the catalogue as at its start), and the checkpoint is
 * the last PMID of the batch. Only active records are rebuilt: a tombstone stays one.
 *
 * A page is the next catalogue_record rows in primary-key order, and each one's XML is then looked
 * up by key. Written as a join filtered on status, the read left the plan to statistics, and
 * without them (a catalogue just loaded, autovacuum not yet round) PostgreSQL guessed few active
 * rows and joined and sorted every record after the keyset for each page, so a page cost as much
 * as the rest of the catalogue. The page also brings each record's content hash, so that a
 * rebuild the current transform leaves as it was writes nothing (see transform-batch.ts).
 */
import { sql } from 'kysely';
import type { PubmedRecordXml } from '../extract/types.js';
import { bigintArray } from '../load/array-params.js';
import type { CatalogueDatabase } from '../load/db.js';
import { storedPmcParts } from '../load/stored-pmc.js';
import { TRANSFORM_VERSION } from '../transform/index.js';
import type { SourceBatch } from './batch-source.js';

/** Which stored records to rebuild: the given PMIDs, every record, or those an older transform built. */
export type StoredSelection = { pmids: number[] } | { all: true } | { builtBefore: number };

export interface StoredCheckpoint {
  /** Every selected record up to this PMID is loaded. */
  afterPmid: number;
  /** Records (or given PMIDs) handled so far, for the progress bar. */
  done: number;
}

export interface StoredSourceOptions {
  selection: StoredSelection;
  batchSize: number;
  /** The run's stored checkpoint. */
  checkpoint: unknown;
  /** Aborting stops reading: batches already yielded are loaded. */
  signal?: AbortSignal;
}

interface StoredRow {
  pmid: number | string;
  content_hash: string;
  transform_version: number;
  version: number;
  /** Null for a tombstone, or a record stored without its XML: nothing to rebuild. */
  pubmed_xml: string | null;
  pmc_article_xml: string | null;
  pmc_summary_xml: string | null;
}

export function storedCheckpoint(checkpoint: unknown): StoredCheckpoint {
  const stored = checkpoint as Partial<StoredCheckpoint> | null;
  return { afterPmid: Number(stored?.afterPmid ?? 0), done: Number(stored?.done ?? 0) };
}

/** How many records the selection holds after `afterPmid`, for the progress bar's total. */
export async function countStored(database: CatalogueDatabase, selection: StoredSelection, afterPmid: number): Promise<number> {
  if ('pmids' in selection) return new Set(selection.pmids.filter((pmid) => pmid > afterPmid)).size;
  const { rows } = await sql<{ n: number | string }>`
    SELECT count(*) AS n FROM catalogue_record c
    WHERE c.status = 'active' AND c.pmid > ${afterPmid}
      ${'builtBefore' in selection ? sql`AND c.transform_version < ${selection.builtBefore}` : sql``}
  `.execute(database.db);
  return Number(rows[0]?.n ?? 0);
}

export async function* storedBatches(database: CatalogueDatabase, options: StoredSourceOptions): AsyncGenerator<SourceBatch> {
  const { selection, batchSize } = options;
  let { afterPmid, done } = storedCheckpoint(options.checkpoint);
  const given = 'pmids' in selection ? [...new Set(selection.pmids)].sort((a, b) => a - b) : undefined;
  while (options.signal?.aborted !== true) {
    const wanted = given?.filter((pmid) => pmid > afterPmid).slice(0, batchSize);
    if (wanted?.length === 0) return;
    const page = await readPage(database, selection, afterPmid, wanted ?? batchSize);
    if (wanted === undefined && page.length === 0) return;
    const rows = page.filter((row): row is StoredRow & { pubmed_xml: string } => row.pubmed_xml !== null);
    const lastPmid = wanted?.at(-1) ?? Number(page.at(-1)!.pmid);
    afterPmid = lastPmid;
    // A page of tombstones has nothing to rebuild: read on.
    if (wanted === undefined && rows.length === 0) continue;
    const found = new Set(rows.map((row) => Number(row.pmid)));
    const requested = wanted?.length ?? rows.length;
    done += requested;
    yield {
      requested,
      invalid: 0,
      done,
      checkpoint: { afterPmid, done } satisfies StoredCheckpoint,
      parts: Promise.resolve({
        records: rows.map(toRecordXml),
        pmc: [],
        stored: rows.map((row) => [Number(row.pmid), storedPmcParts(row)]),
        builtAs: rows.filter((row) => row.transform_version === TRANSFORM_VERSION).map((row): [number, string] => [Number(row.pmid), row.content_hash]),
        versionsRead: new Map(rows.map((row) => [Number(row.pmid), Number(row.version)])),
        deleted: [],
        missing: [],
        failed: (wanted ?? [])
          .filter((pmid) => !found.has(pmid))
          .map((pmid) => ({ pmid, reason: `not in the catalogue, so there is no stored XML to rebuild it from (load it with \`pubcat backfill ${pmid}\`)` })),
      }),
    };
  }
}

/** The page's catalogue rows in PMID order, each with its XML when it is active (see the module comment). */
async function readPage(database: CatalogueDatabase, selection: StoredSelection, afterPmid: number, wanted: number[] | number): Promise<StoredRow[]> {
  const filter =
    typeof wanted !== 'number'
      ? sql`AND c.pmid = ANY(${bigintArray(database.backend, wanted)}::bigint[])`
      : 'builtBefore' in selection
        ? sql`AND c.transform_version < ${selection.builtBefore}`
        : sql``;
  // OFFSET 0 keeps each lookup a lookup by key, whatever the planner makes of the page's size.
  const { rows } = await sql<StoredRow>`
    SELECT c.pmid, c.content_hash, c.transform_version, c.version, s.pubmed_xml, s.pmc_article_xml, s.pmc_summary_xml
    FROM (
      SELECT c.pmid, c.status, c.content_hash, c.transform_version, c.version FROM catalogue_record c
      WHERE c.pmid > ${afterPmid} ${filter}
      ORDER BY c.pmid
      ${typeof wanted === 'number' ? sql`LIMIT ${wanted}` : sql``}
    ) AS c
    LEFT JOIN LATERAL (
      SELECT s.pubmed_xml, s.pmc_article_xml, s.pmc_summary_xml FROM record_source s
      WHERE s.pmid = c.pmid AND c.status = 'active'
      OFFSET 0
    ) AS s ON true
    ORDER BY c.pmid
  `.execute(database.db);
  return rows;
}

function toRecordXml(row: StoredRow & { pubmed_xml: string }): PubmedRecordXml {
  return {
    pmid: Number(row.pmid),
    kind: row.pubmed_xml.trimStart().startsWith('<PubmedBookArticle') ? 'book' : 'article',
    xml: row.pubmed_xml,
  };
}
