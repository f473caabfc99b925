/**
 * Where PMIDs come from: command-line arguments, a file or stdin, and esearch results. Arguments,
 * files and stdin may hold several PMIDs a line, separated by commas and white space (see
 * pmid-tokens.ts). Each source is read as a stream of bounded lines, so the size of the input,
 * or of one line of it, never shows in memory. Every item carries its position in the whole
 * input (the same input always numbers its items the same way): the checkpoint a resumed run
 * skips to.
 */
import type { Readable } from 'node:stream';
import { fileChunks, MAX_LINE_BYTES, splitLines } from './line-splitter.js';
import { countPmidCandidates, pmidCandidates } from './pmid-tokens.js';

/** The largest PMID NCBI can issue (a signed 32-bit integer). */
export const MAX_PMID = 2_147_483_647;

export type PmidItem =
  | { kind: 'pmid'; pmid: number; position: number }
  | ({ kind: 'invalid'; position: number; text: string; reason: string } & InputPlace);

/**
 * Where an item stood in the input, in parts: the text (`whereOf`) is built only for the few
 * refused items that are logged. Built for each of 5 million refused lines, it took the
 * reader's heap from 13 MB to 46 MB.
 */
export interface InputPlace {
  /** `argument 2`, a file's path, or `stdin`. */
  source: string;
  /** Absent for an argument of one line. */
  line?: number;
  /** Absent for a line refused whole. */
  column?: number;
}

/** `ids.txt line 5, column 3`, `argument 2, column 10`, `stdin line 7`. */
export function whereOf({ source, line, column }: InputPlace): string {
  return `${source}${line === undefined ? '' : ` line ${line}`}${column === undefined ? '' : `, column ${column}`}`;
}

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
  for (const [index, argument] of (input.args ?? []).entries()) {
    // The shell hands over a pasted list as it was, line breaks included.
    const lines = argument.split('\n');
    const source = `argument ${index + 1}`;
    for (const [lineIndex, line] of lines.entries()) {
      for (const candidate of pmidCandidates(line)) {
        yield toItem(candidate.text, ++position, source, lines.length === 1 ? undefined : lineIndex + 1, candidate.column);
      }
    }
  }
  if (input.file !== undefined) {
    const stream = input.file === '-' ? (input.stdin ?? process.stdin) : fileChunks(input.file);
    const source = input.file === '-' ? 'stdin' : input.file;
    for await (const lines of splitLines(stream)) {
      for (const line of lines) {
        if (line.kind === 'over-long') {
          const reason = `a line of ${line.bytes} bytes, longer than the ${MAX_LINE_BYTES} a line may have`;
          yield { kind: 'invalid', position: ++position, source, line: line.number, text: `${line.start}…`, reason };
          continue;
        }
        for (const candidate of pmidCandidates(line.text)) {
          yield toItem(candidate.text, ++position, source, line.number, candidate.column);
        }
      }
    }
  }
  if (input.query !== undefined) {
    for await (const item of numberedPmids(input.query)) yield { ...item, position: position + item.position };
  }
}

/**
 * How many items `readPmidInput` makes of a file (an over-long line is one), in one streaming
 * pass: the progress bar's total.
 */
export async function countFileItems(path: string): Promise<number> {
  let items = 0;
  for await (const lines of splitLines(fileChunks(path))) {
    for (const line of lines) items += line.kind === 'over-long' ? 1 : countPmidCandidates(line.text);
  }
  return items;
}

function toItem(text: string, position: number, source: string, line: number | undefined, column: number): PmidItem {
  const parsed = parsePmid(text);
  return typeof parsed === 'number'
    ? { kind: 'pmid', pmid: parsed, position }
    : { kind: 'invalid', position, source, line, column, text, reason: parsed.reason };
}

/** PMIDs from a source that has no lines (stale records, esearch hits), numbered as input items. */
export async function* numberedPmids(pmids: AsyncIterable<number>): AsyncGenerator<PmidItem> {
  let position = 0;
  for await (const pmid of pmids) yield { kind: 'pmid', pmid, position: ++position };
}
