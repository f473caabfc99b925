/**
 * The PMC parts stored with records. A source that brings a record without them (`--no-pmc`, a
 * PMC call that failed, files with PubMed data only) has the record transformed with these, so
 * that it keeps them: only a source that brings PMC parts replaces them.
 */
import { sql } from 'kysely';
import type { StoredPmcParts } from '../transform/index.js';
import { bigintArray } from './array-params.js';
import type { CatalogueDatabase } from './db.js';

export interface StoredPmcRow {
  pmid: number | string;
  pmc_article_xml: string | null;
  pmc_summary_xml: string | null;
}

export async function readStoredPmc(database: CatalogueDatabase, pmids: readonly number[]): Promise<Array<[number, StoredPmcParts]>> {
  if (pmids.length === 0) return [];
  const { rows } = await sql<StoredPmcRow>`
    SELECT pmid, pmc_article_xml, pmc_summary_xml FROM record_source
    WHERE pmid = ANY(${bigintArray(database.backend, pmids)}::bigint[])
      AND (pmc_article_xml IS NOT NULL OR pmc_summary_xml IS NOT NULL)
  `.execute(database.db);
  return rows.map((row) => [Number(row.pmid), storedPmcParts(row)]);
}

export function storedPmcParts(row: StoredPmcRow): StoredPmcParts {
  return {
    ...(row.pmc_article_xml === null ? {} : { articleXml: row.pmc_article_xml }),
    ...(row.pmc_summary_xml === null ? {} : { summaryXml: row.pmc_summary_xml }),
  };
}
