/**
 * Throughput of `pubcat export` on a local PostgreSQL, next to its bound: `COPY (SELECT record
 * FROM catalogue_record) TO STDOUT` of the same rows, received by a client and written to a file
 * as the export writes its own. Target: every format ≥ 0.5× the COPY rate (records per second).
 * 30,000 records built as bench/load.ts builds them, a tenth of them moved into PMC afterwards
 * (a second version whose old id the solr export deletes). It creates a scratch database and
 * drops it at the end.
 *
 * Run: npm run bench -- export
 * (DATABASE_URL or TEST_DATABASE_URL; default postgres://postgres@127.0.0.1:5432/test)
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { runExport } from '../src/export/export.js';
import { EXPORT_FORMATS } from '../src/export/formats.js';
import { StreamSink } from '../src/export/stream-sink.js';
import { openDatabase } from '../src/load/db.js';
import { migrate } from '../src/load/migrate.js';
import { withScratchDatabase } from './scratch-database.js';
import { makeRecord, upsertRecords } from '../test/support/records.js';

const RECORDS = process.argv.includes('--quick') || process.env.PUBCAT_BENCH_QUICK === '1' ? 20_000 : 30_000;
const BATCH_SIZE = 500;
const FIRST_PMID = 20_000_000;
const TARGET = 0.5;

const elapsedSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** COPY … TO STDOUT through pg's own client (pg has no public COPY API): each CopyData chunk goes to `path`. */
class CopyToFile {
  readonly done: Promise<void>;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private error: Error | undefined;
  private readonly file;

  constructor(private readonly statement: string, path: string) {
    this.file = createWriteStream(path);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  submit(connection: { query(text: string): void }): void {
    connection.query(this.statement);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    // pg's chunk is a view of its read buffer, which the next socket read reuses: copy it before the write is queued.
    this.file.write(Buffer.from(message.chunk));
  }

  handleCommandComplete(): void {}

  handleError(error: Error): void {
    this.error = error;
  }

  handleReadyForQuery(): void {
    this.file.end(() => (this.error === undefined ? this.settle?.resolve() : this.settle?.reject(this.error)));
  }
}

export async function main(): Promise<void> {
  await withScratchDatabase(async (url) => {
    const copyClient = new pg.Client({ connectionString: url });
    const directory = await mkdtemp(join(tmpdir(), 'pubcat-bench-export-'));
    const database = await openDatabase({ databaseUrl: url, dataDir: 'unused' });
    try {
      await migrate(database);
      await copyClient.connect();
      const runId = Number((await database.db.insertInto('etl_run').values({ job: 'backfill', replica: 'bench' }).returning('id').executeTakeFirstOrThrow()).id);
      for (let start = 0; start < RECORDS; start += BATCH_SIZE) {
        const pmids = Array.from({ length: Math.min(BATCH_SIZE, RECORDS - start) }, (_, index) => FIRST_PMID + start + index);
        await upsertRecords(database, pmids.map((pmid) => makeRecord(pmid)), runId);
        const moved = pmids.filter((pmid) => pmid % 10 === 0);
        await upsertRecords(database, moved.map((pmid) => makeRecord(pmid, { pmc: pmid - 10_000_000 })), runId);
      }
      await copyClient.query('VACUUM ANALYZE');

      const copy = async (): Promise<number> => {
        const started = process.hrtime.bigint();
        const job = new CopyToFile('COPY (SELECT record FROM catalogue_record) TO STDOUT', join(directory, 'copy.txt'));
        void copyClient.query(job as unknown as pg.Submittable);
        await job.done;
        return elapsedSince(started);
      };
      const rate = (seconds: number): string => `${Math.round(RECORDS / seconds).toLocaleString('en-US').padStart(8)} records/s`;

      console.log(`export bench: ${RECORDS} records (${RECORDS / 10} with a second version), PostgreSQL ${database.location}`);
      const copyBefore = await copy();
      const exports: [string, number, number][] = [];
      for (const format of EXPORT_FORMATS) {
        const path = join(directory, `export.${format}`);
        const started = process.hrtime.bigint();
        const outcome = await runExport(database, { format }, await StreamSink.file(path, format));
        exports.push([format, elapsedSince(started), outcome.records]);
      }
      const copyAfter = await copy();
      // COPY before and after the exports, averaged, so that noise from the rest of the machine falls on both.
      const copySeconds = (copyBefore + copyAfter) / 2;
      const copyBytes = (await stat(join(directory, 'copy.txt'))).size;
      console.log(`COPY (SELECT record …) TO STDOUT ${rate(copySeconds)}  (${(copyBytes / 1e6).toFixed(0)} MB; ${copyBefore.toFixed(2)} s, ${copyAfter.toFixed(2)} s)`);
      let failed = false;
      for (const [format, seconds, records] of exports) {
        const ratio = copySeconds / seconds;
        failed ||= ratio < TARGET;
        const size = (await stat(join(directory, `export.${format}`))).size;
        console.log(
          `export --format ${format.padEnd(5)}          ${rate(seconds)}  ${ratio.toFixed(2)}× COPY (target ≥ ${TARGET}×)  ${records} records, ${(size / 1e6).toFixed(0)} MB`,
        );
      }
      if (failed) process.exitCode = 1;
    } finally {
      await copyClient.end();
      await database.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
