/**
 * Where PMIDs come from: command-line arguments, a file or stdin (one per line), and esearch
 * results. Each source is read as a stream, so the size of the input never shows in memory.
 * Every item carries its position in the whole input: the checkpoint a resumed run skips to.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** The largest PMID NCBI can issue (a signed 32-bit integer). */
export const MAX_PMID = 2_147_483_647;

export type PmidItem =
  | { kind: 'pmid'; pmid: number; position: number }
  | { kind: 'invalid'; position: number; where: string; text: string; reason: string };

/** `123`, `PMID:123`, `PMID: 123` and `pmid 123` are PMIDs; anything else is refused with a reason. */
export function parsePmid(text: string): number | { reason: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { reason: 'blank line' };
  const match = /^(?:pmid\s*:?\s*)?(\d+)$/i.exec(trimmed);
  if (match === null) return { reason: 'not a PMID (a positive whole number, optionally prefixed PMID:)' };
  const pmid = Number(match[1]);
  if (pmid === 0) return { reason: 'PMIDs start at 1' };
  if (pmid > MAX_PMID) return { reason: `larger than any PMID (${MAX_PMID})` };
  return pmid;
}

export interface PmidInput {
  /** Positional PMIDs given on the command line. */
  args?: string[];
  /** A file path, or `-` for stdin. */
  file?: string;
  /** PMIDs of an esearch query, already streaming from NCBI. */
  query?: AsyncIterable<number>;
  /** Read instead of process.stdin when `file` is `-` (tests). */
  stdin?: Readable;
}

/** The whole input as one numbered stream: arguments first, then the file, then the query. */
export async function* readPmidInput(input: PmidInput): AsyncGenerator<PmidItem> {
  let position = 0;
  for (const [index, text] of (input.args ?? []).entries()) {
    yield toItem(text, ++position, `argument ${index + 1}`);
  }
  if (input.file !== undefined) {
    const stream = input.file === '-' ? (input.stdin ?? process.stdin) : createReadStream(input.file, { encoding: 'utf8' });
    const name = input.file === '-' ? 'stdin' : input.file;
    let lineNumber = 0;
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
      yield toItem(line, ++position, `${name} line ${++lineNumber}`);
    }
  }
  if (input.query !== undefined) {
    for await (const item of numberedPmids(input.query)) yield { ...item, position: position + item.position };
  }
}

function toItem(text: string, position: number, where: string): PmidItem {
  const parsed = parsePmid(text);
  return typeof parsed === 'number'
    ? { kind: 'pmid', pmid: parsed, position }
    : { kind: 'invalid', position, where, text, reason: parsed.reason };
}

/** PMIDs from a source that has no lines (stale records, esearch hits), numbered as input items. */
export async function* numberedPmids(pmids: AsyncIterable<number>): AsyncGenerator<PmidItem> {
  let position = 0;
  for await (const pmid of pmids) yield { kind: 'pmid', pmid, position: ++position };
}
