import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVALID_ITEMS_LOGGED, InvalidInputLog } from '../../src/pipeline/invalid-input-log.js';
import { splitLines, type Line } from '../../src/pipeline/line-splitter.js';
import { countFileItems, readPmidInput, whereOf, type PmidItem } from '../../src/pipeline/pmid-input.js';
import { countPmidCandidates, pmidCandidates } from '../../src/pipeline/pmid-tokens.js';

const NOT_A_PMID = 'not a PMID (a positive whole number, optionally prefixed PMID:)';

async function* chunksOf(...chunks: Array<string | Buffer>): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

async function linesOf(chunks: AsyncIterable<Buffer>, maxBytes?: number): Promise<Line[]> {
  const all: Line[] = [];
  for await (const lines of splitLines(chunks, maxBytes)) all.push(...lines);
  return all;
}

async function collect(items: AsyncIterable<PmidItem>): Promise<PmidItem[]> {
  const all: PmidItem[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('pmidCandidates', () => {
  it('splits on commas, spaces and tabs in any mix and number, trailing commas included', () => {
    expect(pmidCandidates(' 1,2 ,, 3\t4,\t 5,')).toEqual([
      { text: '1', column: 2 },
      { text: '2', column: 4 },
      { text: '3', column: 9 },
      { text: '4', column: 11 },
      { text: '5', column: 15 },
    ]);
  });

  it('keeps a PMID prefix with the number after it across white space, never across a comma', () => {
    expect(pmidCandidates('PMID: 123 pmid 456\tPMID:789 PMID : 7 PMID, 5 PMID:').map((candidate) => candidate.text)).toEqual([
      'PMID: 123', 'pmid 456', 'PMID:789', 'PMID : 7', 'PMID', '5', 'PMID:',
    ]);
  });

  it('finds nothing in an empty or separators-only line, and counts exactly what it finds', () => {
    expect([pmidCandidates(''), pmidCandidates(' ,\t, ')]).toEqual([[], []]);
    for (const line of ['', ' ,\t, ', '1', 'PMID: 1, 2 x', '\u00a012\u00a013 ']) {
      expect(countPmidCandidates(line)).toBe(pmidCandidates(line).length);
    }
  });
});

describe('splitLines', () => {
  it('ends lines at LF, drops the CR of CRLF (even when a chunk ends between them) and keeps empty lines', async () => {
    expect(await linesOf(chunksOf('a\r\nb\n\n\r', '\n12', '34\r', '\nlast'))).toEqual([
      { kind: 'line', number: 1, text: 'a' },
      { kind: 'line', number: 2, text: 'b' },
      { kind: 'line', number: 3, text: '' },
      { kind: 'line', number: 4, text: '' },
      { kind: 'line', number: 5, text: '1234' },
      { kind: 'line', number: 6, text: 'last' },
    ]);
  });

  it('decodes a character split across chunks whole, and bytes that are not UTF-8 as U+FFFD', async () => {
    const accented = Buffer.from('é\n');
    expect(await linesOf(chunksOf(accented.subarray(0, 1), accented.subarray(1), Buffer.from([0xff, 0x31, 0x0a])))).toEqual([
      { kind: 'line', number: 1, text: 'é' },
      { kind: 'line', number: 2, text: '\ufffd1' },
    ]);
  });

  it('reports lines longer than the bound by length, within a chunk and across chunks, and keeps the ones at the bound', async () => {
    const lines = await linesOf(chunksOf('12345', '6789\n12345678\r\n123456789\n1234', '5678\r', '\nabcdefghij'), 8);
    expect(lines).toEqual([
      { kind: 'over-long', number: 1, bytes: 9, start: '123456789' },
      { kind: 'line', number: 2, text: '12345678' },
      { kind: 'over-long', number: 3, bytes: 9, start: '123456789' },
      { kind: 'line', number: 4, text: '12345678' },
      { kind: 'over-long', number: 5, bytes: 10, start: 'abcdefghi' },
    ]);
  });

  it('skips a 5 MB line fed in 4 KB chunks as one over-long line and reads on', async () => {
    async function* hugeLine(): AsyncGenerator<Buffer> {
      const chunk = Buffer.alloc(4_096, '7');
      for (let sent = 0; sent < 5 * 1_048_576; sent += chunk.length) yield chunk;
      yield Buffer.from('\r\n31810187\n');
    }
    const lines = await linesOf(hugeLine());
    expect(lines).toEqual([
      { kind: 'over-long', number: 1, bytes: 5 * 1_048_576, start: '7'.repeat(32) },
      { kind: 'line', number: 2, text: '31810187' },
    ]);
  });
});

describe('readPmidInput', () => {
  let workDir: string;
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pubcat-input-'));
  });
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('numbers the PMIDs of pasted lists in arguments, and names the argument, line and column of a refused one', async () => {
    const items = await collect(readPmidInput({ args: ['31810187, 30108519', '7,', 'PMID: 8', '9 12a', '10\n\n 0'] }));
    expect(items).toEqual([
      { kind: 'pmid', pmid: 31810187, position: 1 },
      { kind: 'pmid', pmid: 30108519, position: 2 },
      { kind: 'pmid', pmid: 7, position: 3 },
      { kind: 'pmid', pmid: 8, position: 4 },
      { kind: 'pmid', pmid: 9, position: 5 },
      { kind: 'invalid', position: 6, source: 'argument 4', column: 3, text: '12a', reason: NOT_A_PMID },
      { kind: 'pmid', pmid: 10, position: 7 },
      { kind: 'invalid', position: 8, source: 'argument 5', line: 3, column: 2, text: '0', reason: 'PMIDs start at 1' },
    ]);
  });

  it('reads a file of mixed separators and forms, refusing what is not a PMID with its line and column', async () => {
    const file = join(workDir, 'ids.txt');
    await writeFile(file, '1,2\t3\r\n\n PMID: 4,pmid 5 ,\r\n\t\n6  x7 ,,8\n');
    expect(await collect(readPmidInput({ file }))).toEqual([
      ...[1, 2, 3, 4, 5, 6].map((pmid, index) => ({ kind: 'pmid', pmid, position: index + 1 })),
      { kind: 'invalid', position: 7, source: file, line: 5, column: 4, text: 'x7', reason: NOT_A_PMID },
      { kind: 'pmid', pmid: 8, position: 8 },
    ]);
    expect(await countFileItems(file)).toBe(8);
  });

  it('turns a NUL-filled file into refused items, an over-long line counting as one item', async () => {
    const file = join(workDir, 'zeros.bin');
    await writeFile(file, Buffer.concat([Buffer.alloc(3_000), Buffer.from('\n'), Buffer.alloc(3), Buffer.from('\n42')]));
    expect(await collect(readPmidInput({ file }))).toEqual([
      {
        kind: 'invalid', position: 1, source: file, line: 1, text: `${'\u0000'.repeat(32)}…`,
        reason: 'a line of 3000 bytes, longer than the 1024 a line may have',
      },
      { kind: 'invalid', position: 2, source: file, line: 2, column: 1, text: '\u0000\u0000\u0000', reason: NOT_A_PMID },
      { kind: 'pmid', pmid: 42, position: 3 },
    ]);
    expect(await countFileItems(file)).toBe(3);
  });

  it('names where a refused item stood: source, line when there are lines, column when not refused whole', () => {
    expect([
      whereOf({ source: 'argument 2', column: 10 }),
      whereOf({ source: 'argument 2', line: 3, column: 10 }),
      whereOf({ source: 'ids.txt', line: 5, column: 3 }),
      whereOf({ source: 'stdin', line: 7 }),
    ]).toEqual(['argument 2, column 10', 'argument 2 line 3, column 10', 'ids.txt line 5, column 3', 'stdin line 7']);
  });

  it('numbers stdin after the arguments, under the name stdin', async () => {
    const items = await collect(readPmidInput({ args: ['1'], file: '-', stdin: Readable.from(['2, y\n3']) }));
    expect(items).toEqual([
      { kind: 'pmid', pmid: 1, position: 1 },
      { kind: 'pmid', pmid: 2, position: 2 },
      { kind: 'invalid', position: 3, source: 'stdin', line: 1, column: 4, text: 'y', reason: NOT_A_PMID },
      { kind: 'pmid', pmid: 3, position: 4 },
    ]);
  });
});

describe('InvalidInputLog', () => {
  function capture(): { log: InvalidInputLog; messages: string[] } {
    const messages: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        messages.push(JSON.parse(chunk.toString()).msg);
        done();
      },
    });
    return { log: new InvalidInputLog(pino({ level: 'warn' }, sink)), messages };
  }
  const refused = (line: number): Extract<PmidItem, { kind: 'invalid' }> => ({
    kind: 'invalid', position: line, source: 'ids.txt', line, column: 1, text: `x${line}\u0000`, reason: NOT_A_PMID,
  });

  it(`logs the first ${INVALID_ITEMS_LOGGED} refused items one by one, then sums up the rest in one line`, async () => {
    const { log, messages } = capture();
    for (let line = 1; line <= 1_000; line += 1) log.add(refused(line));
    log.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages).toHaveLength(INVALID_ITEMS_LOGGED + 1);
    expect(messages[0]).toBe(`skipped "x1\\u0000" at ids.txt line 1, column 1: ${NOT_A_PMID}`);
    expect(messages[INVALID_ITEMS_LOGGED - 1]).toBe(`skipped "x20\\u0000" at ids.txt line 20, column 1: ${NOT_A_PMID}`);
    expect(messages[INVALID_ITEMS_LOGGED]).toBe('skipped 980 more invalid input items, not logged one by one (1000 in all)');
  });

  it('adds no summary when every refused item was logged', async () => {
    const { log, messages } = capture();
    for (let line = 1; line <= INVALID_ITEMS_LOGGED; line += 1) log.add(refused(line));
    log.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(messages).toHaveLength(INVALID_ITEMS_LOGGED);
  });
});
