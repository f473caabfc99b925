/**
 * What the pipeline loads from: a source yields batches in input order. A batch is yielded as
 * soon as its place in the input is known; its parts (the records' XML, what could not be
 * delivered) may still be arriving, so the sources of several batches overlap while the pipeline
 * loads them one after another.
 */
import type { FailedPmid, PmcRecordXml, PubmedRecordXml } from '../extract/types.js';
import type { StoredPmcParts } from '../transform/index.js';

export interface SourceBatch {
  /** PMIDs the batch covers: the share of missing ones is measured against it. */
  requested: number;
  /** Input items refused while the batch filled up. */
  invalid: number;
  /** Input items covered up to the end of the batch, for the progress bar. */
  done: number;
  /** Written with the batch's load: where the run resumes once the batch is loaded. */
  checkpoint: Record<string, unknown>;
  parts: Promise<SourceParts>;
}

export interface SourceParts {
  records: PubmedRecordXml[];
  /**
   * The records' PMC article and summary by PMC id, when the source brings them. A record
   * without them here keeps the ones stored with it.
   */
  pmc: Array<[string, PmcRecordXml]>;
  /** PMC parts stored with the records, by PMID, when the source read them along. */
  stored?: Array<[number, StoredPmcParts]>;
  /**
   * Records rebuilt from stored XML: the content hash each one held when it was read, for those
   * the current transform built, by PMID (an array, as it goes to the transform workers as is). A
   * record that comes out with that hash writes nothing (transform-batch.ts).
   */
  builtAs?: Array<[number, string]>;
  /**
   * Records rebuilt from stored XML: the version each one had when its XML was read. One that
   * another loader (a refresh, an import) has changed since keeps that change, which is newer
   * than the XML read: the rebuilt row is counted `older` and not written.
   */
  versionsRead?: ReadonlyMap<number, number>;
  /** PMIDs the source reports deleted (PubMed's `<DeleteCitation>`). */
  deleted: number[];
  /** PMIDs asked for that the source does not have. */
  missing: number[];
  failed: FailedPmid[];
}

export type BatchSource = AsyncIterable<SourceBatch>;

export const NO_PARTS: SourceParts = { records: [], pmc: [], deleted: [], missing: [], failed: [] };
