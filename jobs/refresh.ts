/**
 * The refresh job: re-fetch the records checked longest ago. Changed records get new versions,
 * unchanged ones only a new check time, and PMIDs that NCBI stops returning are tombstoned once
 * they are missing on two consecutive runs while NCBI looks healthy (src/load/missing-guard.ts).
 * With `includeDeleted` tombstones are asked for too, and one that NCBI serves again is restored.
 * A refresh needs no checkpoint to resume: every record it handled is checked again, so it is no
 * longer stale.
 */
import { countStale, stalePmids } from '../src/load/stale.js';
import type { RunCounters, RunHandle } from '../src/load/runs.js';
import { runPipeline } from '../src/pipeline.js';
import { numberedPmids } from '../src/pipeline/pmid-input.js';
import type { JobContext } from './context.js';

export interface RefreshOptions {
  /** Records checked less than this long ago are left alone. */
  olderThanMs: number;
  /** At most this many records per run. */
  limit?: number;
  /** Re-check tombstones as well as active records. */
  includeDeleted?: boolean;
}

export const DEFAULT_REFRESH_AGE_MS = 7 * 86_400_000;

/** One key for every refresh, scheduled or manual, so the two never overlap. */
export const REFRESH_INPUT_KEY = 'refresh';

export async function refreshCatalogue(run: RunHandle, options: RefreshOptions, context: JobContext): Promise<RunCounters> {
  const selection = { cutoff: new Date(Date.now() - options.olderThanMs), includeDeleted: options.includeDeleted === true };
  const stale = await countStale(context.database.db, selection);
  const total = Math.min(stale, options.limit ?? stale);
  context.logger.info(
    { runId: run.id, stale, total, cutoff: selection.cutoff.toISOString(), includeDeleted: selection.includeDeleted },
    'refreshing stale records',
  );
  return runPipeline({ ...run, checkpoint: null }, numberedPmids(stalePmids(context.database.db, selection, options.limit)), context, {
    ...context.settings,
    total,
  });
}

/** `30m`, `12h`, `7d`, `2w` (and plain seconds `90s`) to milliseconds; undefined when unreadable. */
export function parseAge(text: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (match === null) return undefined;
  const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unitMs;
}
