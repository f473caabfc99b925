/**
 * Writes an export to stdout or to a file. A file is written under a temporary name beside it and
 * renamed when complete, so a reader (or a cron job's next step) never sees half an export.
 */
import { once } from 'node:events';
import { createWriteStream, unlinkSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { InputError } from '../errors.js';
import { CSV_HEADER, SOLR_CLOSE, SOLR_OPEN, SOLR_SEPARATOR, type EncodedPage, type ExportFormat } from './formats.js';

export interface ExportSink {
  /** Whether a page is delivered for good once write() resolves, so a target may save its position page by page. */
  readonly deliversEachPage: boolean;
  /** Retried requests so far (for the progress line). */
  readonly retries: number;
  write(page: EncodedPage): Promise<void>;
  /** Completes the output; an export that failed calls abort() instead. */
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export class StreamSink implements ExportSink {
  readonly deliversEachPage = false;
  readonly retries = 0;
  private written = 0;
  /** Between Solr commands; after each line otherwise (CSV rows end as RFC 4180 says, JSON lines with a plain newline). */
  private readonly separator: Buffer;
  private failure: Error | undefined;

  private constructor(
    private readonly stream: Writable,
    private readonly format: ExportFormat,
    private readonly file: { path: string; partial: string; removeOnExit: () => void } | undefined,
  ) {
    this.separator = Buffer.from(format === 'solr' ? SOLR_SEPARATOR : format === 'csv' ? '\r\n' : '\n');
    stream.on('error', (error) => (this.failure ??= error));
    if (format === 'solr') stream.write(SOLR_OPEN);
    if (format === 'csv') stream.write(CSV_HEADER);
  }

  static stdout(format: ExportFormat): StreamSink {
    return new StreamSink(process.stdout, format, undefined);
  }

  static async file(path: string, format: ExportFormat): Promise<StreamSink> {
    const partial = join(dirname(path), `.${basename(path)}.partial`);
    // Room for a few pages, so that the next page is read and encoded while the disk writes this one.
    const stream = createWriteStream(partial, { highWaterMark: 32 * 1024 * 1024 });
    try {
      await once(stream, 'open');
    } catch (error) {
      throw new InputError(`cannot write ${path}: ${(error as Error).message}`, { input: path, cause: error });
    }
    // Interrupted (Ctrl-C ends the process at once), the export leaves no half file behind.
    const removeOnExit = (): void => {
      try {
        unlinkSync(partial);
      } catch {
        // Already renamed or removed.
      }
    };
    process.once('exit', removeOnExit);
    return new StreamSink(stream, format, { path, partial, removeOnExit });
  }

  async write(page: EncodedPage): Promise<void> {
    if (page.entries.length === 0) return;
    this.check();
    // Each entry is a view of the page PostgreSQL sent: corked, they leave in one writev, uncopied.
    this.stream.cork();
    page.entries.forEach((entry, index) => {
      if (this.format === 'solr' && (index > 0 || this.written > 0)) this.stream.write(this.separator);
      this.stream.write(entry);
      if (this.format !== 'solr') this.stream.write(this.separator);
    });
    this.written += page.entries.length;
    const flowing = !this.stream.writableNeedDrain;
    this.stream.uncork();
    if (!flowing) await this.until('drain');
    this.check();
  }

  async finish(): Promise<void> {
    if (this.format === 'solr') await this.send(this.written === 0 ? '}\n' : SOLR_CLOSE);
    if (this.file === undefined) return;
    this.stream.end();
    await this.settled();
    await rename(this.file.partial, this.file.path);
    process.off('exit', this.file.removeOnExit);
  }

  async abort(): Promise<void> {
    if (this.file === undefined) return;
    this.stream.destroy();
    await unlink(this.file.partial).catch(() => undefined);
    process.off('exit', this.file.removeOnExit);
  }

  private async send(text: string): Promise<void> {
    this.check();
    if (!this.stream.write(text)) await this.until('drain');
    this.check();
  }

  private async settled(): Promise<void> {
    if (!this.stream.writableFinished) await this.until('finish');
    this.check();
  }

  /** Waits for `event`, or for the error that means it will never come; leaves no listener behind. */
  private async until(event: 'drain' | 'finish'): Promise<void> {
    const done = new AbortController();
    try {
      await Promise.race([once(this.stream, event, { signal: done.signal }), once(this.stream, 'error', { signal: done.signal })]);
    } finally {
      done.abort();
    }
  }

  private check(): void {
    if (this.failure !== undefined) {
      const where = this.file?.path ?? 'stdout';
      throw new InputError(`cannot write ${where}: ${this.failure.message}`, { input: where, cause: this.failure });
    }
  }
}
