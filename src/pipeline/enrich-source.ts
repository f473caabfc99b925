/**
 * Batches for `pubcat enrich`: active records that have a PMC id and no PMC part stored (those a
 * bulk-file import or a `--no-pmc` backfill brought), each with its stored PubMed XML and the PMC
 * front matter and summary fetched for it now. Loaded through the normal pipeline, they become
 * exactly the records a backfill with PMC would have built. NCBI is asked about PMC only: the
 * PubMed part is the stored one.
 *
 * Records are read in PMID order, a page after the last PMID read, and the checkpoint is the last
 * PMID of the batch, so a killed run resumes after its last loaded batch. A record PMC has nothing
 * for stays as it is (unchanged); one whose PMC calls failed after their retries is `failed` and
 * left as it is. Both are asked about again by a later run.
 */
import { sql } from 'kysely';
import type { EutilsClient } from '../extract/eutils-client.js';
import { fetchPmc } from '../extract/pmc.js';
import type { PubmedRecordXml } from '../extract/types.js';
import type { CatalogueDatabase } from '../load/db.js';
import type { Logger } from '../logger.js';
import type { SourceBatch, SourceParts } from './batch-source.js';

export interface EnrichCheckpoint {
  /** Every selected record up to this PMID is loaded. */
  afterPmid: number;
  /** Records handled so far by the run. */
  done: number;
}

export interface EnrichSourceOptions {
  client: EutilsClient;
  logger: Logger;
  batchSize: number;
  /** At most this many records (from where the run stands). */
  limit?: number;
  /** The run's stored checkpoint. */
  checkpoint: unknown;
  /** Aborting stops reading: batches already yielded are loaded. */
  signal?: AbortSignal;
  /** Gives the PMC calls under way up (see PipelineContext.cancel). */
  cancel?: AbortSignal;
}

interface LackingRow {
  pmid: number | string;
  pmcid: string;
  version: number;
  pubmed_xml: string;
}

export function enrichCheckpoint(checkpoint: unknown): EnrichCheckpoint {
  const stored = checkpoint as Partial<EnrichCheckpoint> | null;
  return { afterPmid: Number(stored?.afterPmid ?? 0), done: Number(stored?.done ?? 0) };
}

/** The records lacking PMC parts after `afterPmid`: the progress bar's total. */
export async function countLackingPmc(database: CatalogueDatabase, afterPmid: number): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`
    SELECT count(*) AS n ${lackingPmc(afterPmid)}
  `.execute(database.db);
  return Number(rows[0]?.n ?? 0);
}

export async function* enrichBatches(database: CatalogueDatabase, options: EnrichSourceOptions): AsyncGenerator<SourceBatch> {
  let { afterPmid, done } = enrichCheckpoint(options.checkpoint);
  let left = options.limit ?? Number.POSITIVE_INFINITY;
  while (left > 0 && options.signal?.aborted !== true) {
    const { rows } = await sql<LackingRow>`
      SELECT c.pmid, c.pmcid, c.version, s.pubmed_xml ${lackingPmc(afterPmid)}
      ORDER BY c.pmid LIMIT ${Math.min(options.batchSize, left)}
    `.execute(database.db);
    if (rows.length === 0) return;
    afterPmid = Number(rows.at(-1)!.pmid);
    done += rows.length;
    left -= rows.length;
    const records = rows.map(toRecordXml);
    const versionsRead = new Map(rows.map((row) => [Number(row.pmid), Number(row.version)]));
    yield {
      requested: rows.length,
      invalid: 0,
      done,
      checkpoint: { afterPmid, done } satisfies EnrichCheckpoint,
      parts: fetchPmcParts(options, records).then((parts) => ({ ...parts, versionsRead })),
    };
  }
}

/**
 * The PMC parts of the records. A record a PMC call failed for (after its retries) is not loaded
 * but `failed`: half its parts would make it look enriched, and it would not be asked about again.
 */
async function fetchPmcParts(options: EnrichSourceOptions, records: PubmedRecordXml[]): Promise<SourceParts> {
  const failedCalls = new Map<string, string>();
  const pmc = await fetchPmc(options.client, records.map((record) => record.pmcid!), {
    signal: options.cancel,
    onCallFailed: (pmcids, reason) => {
      for (const pmcid of pmcids) failedCalls.set(pmcid, reason);
    },
  });
  const loaded = records.filter((record) => !failedCalls.has(record.pmcid!));
  const without = loaded.filter((record) => !pmc.has(record.pmcid!)).length;
  if (without > 0) options.logger.info({ records: loaded.length, without }, `PMC has nothing for ${without} of ${loaded.length} records; they stay as they are`);
  return {
    records: loaded,
    pmc: [...pmc].filter(([pmcid]) => !failedCalls.has(pmcid)),
    deleted: [],
    missing: [],
    failed: records.flatMap((record) => {
      const reason = failedCalls.get(record.pmcid!);
      return reason === undefined ? [] : [{ pmid: record.pmid, reason }];
    }),
  };
}

/** FROM and WHERE of the records enrich works on. */
function lackingPmc(afterPmid: number) {
  return sql`
    FROM catalogue_record c JOIN record_source s ON s.pmid = c.pmid
    WHERE c.status = 'active' AND c.pmcid IS NOT NULL
      AND s.pmc_article_xml IS NULL AND s.pmc_summary_xml IS NULL
      AND c.pmid > ${afterPmid}
  `;
}

function toRecordXml(row: LackingRow): PubmedRecordXml {
  return {
    pmid: Number(row.pmid),
    kind: row.pubmed_xml.trimStart().startsWith('<PubmedBookArticle') ? 'book' : 'article',
    xml: row.pubmed_xml,
    pmcid: row.pmcid,
  };
}
