/**
 * Batches of one bulk file's items (records and deleted PMIDs) in file order. The checkpoint is
 * the number of items loaded: a resumed import reads the file again from its start (a gzip
 * stream cannot be entered in the middle) but skips that many items unparsed and untransformed.
 * Told to stop (`signal`), the source yields the batch it was filling and reads no further.
 *
 * A batch also ends at MAX_BATCH_BYTES of XML, so the records in flight (and so memory) are
 * bounded in bytes, not only in records: a file of large records holds no more than one of small.
 */
import type { BulkItem } from '../extract/record-stream.js';
import type { PubmedRecordXml } from '../extract/types.js';
import type { FileCheckpoint } from '../load/import-files.js';
import type { SourceBatch } from './batch-source.js';

/** XML per batch at most: 400 records of PubMed's typical 5 KB, fewer of larger ones. */
export const MAX_BATCH_BYTES = 2 << 20;

export interface ImportSourceOptions {
  batchSize: number;
  /** Where the file's import stands: items up to it are skipped. */
  checkpoint: FileCheckpoint;
  signal?: AbortSignal;
}

export async function* importBatches(items: AsyncIterable<BulkItem>, options: ImportSourceOptions): AsyncGenerator<SourceBatch> {
  const { checkpoint } = options;
  let seen = 0;
  let position = { ...checkpoint };
  let records: PubmedRecordXml[] = [];
  let deleted: number[] = [];
  let bytes = 0;
  const batch = (): SourceBatch => {
    const parts = { records, pmc: [], deleted, missing: [], failed: [] };
    position = { items: position.items + records.length + deleted.length, records: position.records + records.length, deleted: position.deleted + deleted.length };
    records = [];
    deleted = [];
    bytes = 0;
    return {
      requested: parts.records.length + parts.deleted.length,
      invalid: 0,
      done: position.items,
      checkpoint: { ...position },
      parts: Promise.resolve(parts),
    };
  };
  for await (const item of items) {
    seen += 1;
    if (seen <= checkpoint.items) continue;
    if (item.kind === 'record') {
      records.push(item.record);
      bytes += item.record.xml.length;
    } else deleted.push(item.pmid);
    if (records.length + deleted.length >= options.batchSize || bytes >= MAX_BATCH_BYTES) {
      yield batch();
      if (options.signal?.aborted === true) return;
    }
  }
  if (records.length + deleted.length > 0) yield batch();
}
