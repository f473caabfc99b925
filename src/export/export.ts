/**
 * An export: the records changed after a starting position (the beginning, --since, or where a
 * named target left off) and before the cut-off, page by page into a sink, with progress.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../load/schema.js';
import type { ProgressReporter } from '../pipeline/progress.js';
import { BEFORE_EVERYTHING, countChanges, exportCutoff, readChanges, type ChangePosition, type ExportDatabase } from './changes.js';
import { encodePage, type ExportFormat } from './formats.js';
import type { ExportSink } from './stream-sink.js';
import { readTarget, saveTarget } from './targets.js';

export interface ExportRequest {
  format: ExportFormat;
  /** Records changed at or after this ISO time. */
  since?: string;
  /** The named target whose position to start from and to advance. */
  target?: string;
  pageSize?: number;
}

export interface ExportOutcome {
  /** Documents, lines or rows written for active records. */
  records: number;
  /** Delete commands (solr), tombstone rows (csv), or tombstones left out (jsonl). */
  deletes: number;
}

/** One page holds a few MB of records: small enough for flat memory, large enough for few round trips. */
export const EXPORT_PAGE_SIZE = 1000;

/**
 * Queries run on the pool (or PGlite's one session), the pages on a connection of their own, each
 * a COPY without JIT (copy-out.ts).
 */
export async function runExport(database: ExportDatabase, request: ExportRequest, sink: ExportSink, progress?: ProgressReporter): Promise<ExportOutcome> {
  const { db } = database;
  const start = await startPosition(db, request);
  const cutoff = await exportCutoff(db);
  const total = progress === undefined ? undefined : await countChanges(db, start, cutoff);
  const outcome: ExportOutcome = { records: 0, deletes: 0 };
  let done = 0;
  let position: ChangePosition | undefined;
  let unsaved = 0;
  try {
    for await (const rows of readChanges(database, request.format, start, cutoff, request.pageSize ?? EXPORT_PAGE_SIZE)) {
      const page = encodePage(request.format, rows);
      await sink.write(page);
      outcome.records += page.records;
      outcome.deletes += page.deletes;
      done += rows.length;
      unsaved += rows.length;
      position = rows[rows.length - 1]!.position;
      if (request.target !== undefined && sink.deliversEachPage) {
        await saveTarget(db, request.target, request.format, position, unsaved);
        unsaved = 0;
      }
      progress?.update({ done, total, records: done, rateLimited: 0, retries: sink.retries });
    }
    await sink.finish();
  } catch (error) {
    await sink.abort();
    throw error;
  } finally {
    progress?.finish();
  }
  if (request.target !== undefined && position !== undefined && unsaved > 0) {
    await saveTarget(db, request.target, request.format, position, unsaved);
  }
  return outcome;
}

async function startPosition(db: Kysely<Database>, request: ExportRequest): Promise<ChangePosition> {
  if (request.since !== undefined) return { changedAt: request.since, pmid: 0 };
  if (request.target !== undefined) return (await readTarget(db, request.target, request.format)) ?? BEFORE_EVERYTHING;
  return BEFORE_EVERYTHING;
}
