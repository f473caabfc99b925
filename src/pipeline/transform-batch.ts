/**
 * Transforms one fetched batch into the rows the load stage sends. A record whose XML does not
 * parse fails alone (it is reported as failed with the reason); the rest of the batch goes on.
 */
import type { FailedPmid, PmcRecordXml, PubmedRecordXml } from '../extract/types.js';
import { toUpsertRow, type UpsertRow } from '../load/upsert-row.js';
import { transformPubmedRecord, type StoredPmcParts } from '../transform/index.js';

export interface TransformJob {
  records: PubmedRecordXml[];
  /** PMC data by PMC id (a plain array of entries, so it crosses to a worker thread as is). */
  pmc: Array<[string, PmcRecordXml]>;
  /** PMC parts stored with the records, by PMID: used for any part the source did not bring. */
  stored?: Array<[number, StoredPmcParts]>;
  /**
   * Records rebuilt from stored XML: the content hash each held when it was read, for those the
   * current transform built. A record that comes out with that hash is the record as stored.
   */
  builtAs?: Array<[number, string]>;
}

export interface TransformOutcome {
  rows: UpsertRow[];
  failed: FailedPmid[];
  /** Rebuilt records that came out as stored (see `builtAs`): they have no row, as nothing is written. */
  unchanged: number[];
}

export function transformBatch(job: TransformJob): TransformOutcome {
  const pmcById = new Map(job.pmc);
  const storedByPmid = new Map(job.stored);
  const builtAs = new Map(job.builtAs);
  const outcome: TransformOutcome = { rows: [], failed: [], unchanged: [] };
  for (const record of job.records) {
    const pmc = record.pmcid === undefined ? undefined : pmcById.get(record.pmcid);
    try {
      const transformed = transformPubmedRecord(record, pmc, storedByPmid.get(record.pmid));
      // The row of a record as stored would only be sent to the main thread to be dropped there.
      if (builtAs.get(record.pmid) === transformed.contentHash) outcome.unchanged.push(record.pmid);
      else outcome.rows.push(toUpsertRow(transformed));
    } catch (error) {
      outcome.failed.push({ pmid: record.pmid, reason: `transform: ${(error as Error).message}` });
    }
  }
  return outcome;
}
