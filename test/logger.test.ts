import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

/** A stream that keeps what is written to it; `isTTY` as a terminal or a pipe would say. */
function fakeStream(isTTY: boolean): { isTTY: boolean; columns: number; written: string[]; write(text: string): boolean } {
  return {
    isTTY,
    columns: 120,
    written: [],
    write(text) {
      this.written.push(text);
      return true;
    },
  };
}

const ANSI = /\x1b\[[0-9;]*m/g;

describe('createLogger', () => {
  it('writes one pino JSON line per entry to a stream that is not a terminal', () => {
    const stream = fakeStream(false);
    createLogger('info', undefined, stream).warn({ pmid: 5 }, 'PMID 5 failed');
    expect(stream.written).toHaveLength(1);
    expect(JSON.parse(stream.written[0]!)).toMatchObject({ level: 40, pmid: 5, msg: 'PMID 5 failed', pid: process.pid });
  });

  it('writes short coloured lines to a terminal: local time, level, message, fields, no pid or hostname', () => {
    const stream = fakeStream(true);
    createLogger('info', undefined, stream).warn({ pmid: 5 }, 'PMID 5 failed');
    const line = stream.written.join('');
    expect(line).toMatch(ANSI);
    expect(line.replace(ANSI, '')).toMatch(/^\[\d\d:\d\d:\d\d [+-]\d{4}\] WARN: PMID 5 failed \{"pmid":5\}\n$/);
  });

  it('leaves out of a pretty line the fields its message already says', () => {
    const stream = fakeStream(false);
    createLogger('info', 'pretty', stream).warn({ where: 'line 4', text: '12a', reason: 'not a PMID', runId: 3 }, 'skipped "12a" at line 4: not a PMID');
    expect(stream.written[0]).toMatch(/ WARN: skipped "12a" at line 4: not a PMID \{"runId":3\}\n$/);
  });

  it('follows LOG_FORMAT over the kind of stream, colouring only a terminal', () => {
    const terminal = fakeStream(true);
    createLogger('info', 'json', terminal).info('started');
    expect(JSON.parse(terminal.written[0]!)).toMatchObject({ level: 30, msg: 'started' });
    const pipe = fakeStream(false);
    createLogger('info', 'pretty', pipe).info('started');
    expect(pipe.written[0]).toMatch(/^\[\d\d:\d\d:\d\d [+-]\d{4}\] INFO: started\n$/);
  });

  it('leaves out entries below its level', () => {
    const stream = fakeStream(false);
    const logger = createLogger('warn', undefined, stream);
    logger.debug('migration 003 skipped');
    logger.info('schema migrated');
    expect(stream.written).toEqual([]);
  });
});
