import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createProgressReporter, type ProgressSnapshot } from '../../src/pipeline/progress.js';

function fakeTerminal(columns = 200): { isTTY: true; columns: number; written: string[]; write(text: string): boolean } {
  return {
    isTTY: true,
    columns,
    written: [],
    write(text) {
      this.written.push(text);
      return true;
    },
  };
}

const CLEAR = '\r\x1b[K';
const snapshot: ProgressSnapshot = { done: 600, total: 5404, records: 600, rateLimited: 1, retries: 1 };

describe('the progress bar on a terminal', () => {
  it('is cleared before a log line and drawn again after it, in one write', () => {
    const stream = fakeTerminal();
    const logger = createLogger('info', 'json', stream);
    const progress = createProgressReporter(stream, logger);
    progress.update(snapshot);
    const bar = stream.written.at(-1)!.replace(/^\r/, '').replace(/\x1b\[K$/, '');
    expect(bar).toMatch(/^\[#+\.+\] +11% 600\/5404 .* 429s 1 {2}retries 1$/);

    logger.warn({ signal: 'SIGINT' }, 'stopping');
    const write = stream.written.at(-1)!;
    expect(write.startsWith(CLEAR)).toBe(true);
    expect(write.endsWith(`\n${bar}`)).toBe(true);
    expect(JSON.parse(write.slice(CLEAR.length, -bar.length))).toMatchObject({ level: 40, msg: 'stopping' });
  });

  it('writes log lines alone once finished, with the bar wiped', () => {
    const stream = fakeTerminal();
    const logger = createLogger('info', 'json', stream);
    const progress = createProgressReporter(stream, logger);
    progress.update(snapshot);
    progress.finish();
    expect(stream.written.at(-1)).toBe(CLEAR);
    logger.info('after');
    expect(JSON.parse(stream.written.at(-1)!)).toMatchObject({ msg: 'after' });
  });

  it('is cut to the terminal width, so clearing its one line wipes all of it', () => {
    const stream = fakeTerminal(40);
    createProgressReporter(stream, createLogger('info', 'json', stream)).update(snapshot);
    expect(stream.written.at(-1)).toBe('\r[###.....................]  11% 600/540\x1b[K');
  });
});

describe('progress when stderr is not a terminal', () => {
  it('goes to the log as a progress entry with the last figures when the run finishes', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) };
    const progress = createProgressReporter(stream, createLogger('info', undefined, stream));
    progress.update(snapshot);
    progress.finish();
    expect(written.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ msg: 'progress', done: 600, total: 5404, retries: 1 })]);
  });
});
