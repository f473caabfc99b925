import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_PMID, numberedPmids, parsePmid, readPmidInput, type PmidItem } from '../../src/pipeline/pmid-input.js';
import { PmidSet } from '../../src/pipeline/pmid-set.js';
import { formatBar, formatDuration } from '../../src/pipeline/progress.js';

async function collect(items: AsyncIterable<PmidItem>): Promise<PmidItem[]> {
  const all: PmidItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('parsePmid', () => {
  it('accepts plain numbers and PMID: prefixes, in any case and spacing', () => {
    expect(['31810187', ' PMID:31810187 ', 'pmid: 31810187', 'PMID 31810187', '0031810187'].map(parsePmid)).toEqual(Array(5).fill(31810187));
  });

  it('refuses blanks, zero, words and numbers beyond any PMID, saying why', () => {
    expect(parsePmid('')).toEqual({ reason: 'blank line' });
    expect(parsePmid('0')).toEqual({ reason: 'PMIDs start at 1' });
    expect(parsePmid('12a')).toEqual({ reason: 'not a PMID (a positive whole number, optionally prefixed PMID:)' });
    expect(parsePmid('-5')).toEqual({ reason: 'not a PMID (a positive whole number, optionally prefixed PMID:)' });
    expect(parsePmid(String(MAX_PMID + 1))).toEqual({ reason: `larger than any PMID (${MAX_PMID})` });
  });
});

describe('readPmidInput', () => {
  it('numbers arguments, then stdin lines, then query hits as one input, naming where each came from', async () => {
    async function* hits(): AsyncGenerator<number> {
      yield 7;
      yield 8;
    }
    const items = await collect(
      readPmidInput({ args: ['1', 'x'], file: '-', stdin: Readable.from(['3\r\n\nz\n4']), query: hits() }),
    );
    expect(items).toEqual([
      { kind: 'pmid', pmid: 1, position: 1 },
      { kind: 'invalid', position: 2, source: 'argument 2', column: 1, text: 'x', reason: 'not a PMID (a positive whole number, optionally prefixed PMID:)' },
      { kind: 'pmid', pmid: 3, position: 3 },
      { kind: 'invalid', position: 4, source: 'stdin', line: 3, column: 1, text: 'z', reason: 'not a PMID (a positive whole number, optionally prefixed PMID:)' },
      { kind: 'pmid', pmid: 4, position: 5 },
      { kind: 'pmid', pmid: 7, position: 6 },
      { kind: 'pmid', pmid: 8, position: 7 },
    ]);
  });

  it('numbers a bare stream of PMIDs from 1', async () => {
    async function* pmids(): AsyncGenerator<number> {
      yield 42;
    }
    expect(await collect(numberedPmids(pmids()))).toEqual([{ kind: 'pmid', pmid: 42, position: 1 }]);
  });
});

describe('PmidSet', () => {
  it('says whether a PMID is new, across the whole PMID range', () => {
    const set = new PmidSet();
    expect([set.add(5), set.add(5), set.add(MAX_PMID), set.add(MAX_PMID), set.add(6)]).toEqual([true, false, true, false, true]);
    expect([set.has(5), set.has(7), set.has(MAX_PMID)]).toEqual([true, false, true]);
  });
});

describe('progress line', () => {
  it('shows done/total, rate, ETA, 429s and retries', () => {
    expect(formatBar({ done: 500, total: 2000, records: 480, rateLimited: 1, retries: 3 }, 120.4, 75)).toBe(
      '[######..................]  25% 500/2000  120 rec/s  ETA 1:15  429s 1  retries 3',
    );
  });

  it('drops the bar and ETA when the total is unknown (stdin, a query)', () => {
    expect(formatBar({ done: 500, total: undefined, records: 500, rateLimited: 0, retries: 0 }, 50, undefined)).toBe(
      '500  50 rec/s  429s 0  retries 0',
    );
  });

  it('formats durations as m:ss, or h:mm:ss past an hour', () => {
    expect([formatDuration(5), formatDuration(75), formatDuration(3_725)]).toEqual(['0:05', '1:15', '1:02:05']);
  });
});
