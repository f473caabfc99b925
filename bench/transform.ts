/**
 * CPU per record of what a transform worker does with each record (parse, record, derived
 * fields, facets, canonical JSON and hash, the load row), on one core, over every PubmedArticle
 * in the test fixtures, beside a bare fast-xml-parser parse (default options) of the same
 * records, measured in alternation in the same run. pubcat as a whole must spend at most 0.35×
 * a bare parse per record (bench/e2e measures that, the main thread and GC included), so the
 * worker's own share must sit well under it; its parse alone is shown too.
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/transform.js
 */
import { pathToFileURL } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { toUpsertRow } from '../src/load/upsert-row.js';
import { transformPubmedRecord } from '../src/transform/index.js';
import { parsePubmedRecord } from '../src/transform/parse/pubmed-parser.js';
import { pubmedDocuments, recordChunks } from '../test/transform/pubmed-fixtures.js';

/** pubcat's whole CPU per record against a bare parse's (issue target, measured by bench/e2e). */
const TARGET_RATIO = 0.35;
const MIN_CPU_SECONDS = 6;

/**
 * CPU milliseconds per record of each pass, the passes timed in alternation, one pass of each
 * per round, so that load from other processes on the machine falls on all alike. CPU time is
 * the whole process's, so the garbage collection a pass causes on V8's helper threads counts.
 */
function measureAlternating<T>(records: readonly T[], passes: readonly ((record: T) => unknown)[]): number[] {
  for (const pass of passes) for (const record of records) pass(record);
  const micros = passes.map(() => 0);
  let rounds = 0;
  while (micros.reduce((a, b) => a + b, 0) < MIN_CPU_SECONDS * 1e6) {
    passes.forEach((pass, i) => {
      const before = process.cpuUsage();
      for (const record of records) pass(record);
      const used = process.cpuUsage(before);
      micros[i] = (micros[i] ?? 0) + used.user + used.system;
    });
    rounds += 1;
  }
  return micros.map((total) => total / 1000 / (records.length * rounds));
}

export async function main(): Promise<void> {
  const chunks = pubmedDocuments()
    .flatMap((document) => recordChunks(document.xml))
    .filter((chunk) => chunk.kind === 'article');
  const bytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.xml), 0);

  const bareParser = new XMLParser();
  const [bare, parse, transform] = measureAlternating(chunks, [
    (chunk) => bareParser.parse(chunk.xml),
    (chunk) => parsePubmedRecord(chunk.xml),
    (chunk) => toUpsertRow(transformPubmedRecord({ pmid: chunk.pmid, kind: 'article', xml: chunk.xml })),
  ]);
  if (bare === undefined || parse === undefined || transform === undefined) throw new Error('no measurement');

  const line = (name: string, ms: number): string =>
    `${name.padEnd(40)} ${ms.toFixed(3).padStart(7)} ms CPU/record = ${(ms / bare).toFixed(3)}× bare parse`;
  console.log(`transform bench: ${chunks.length} PubmedArticle records, ${(bytes / 1e6).toFixed(2)} MB, one thread`);
  console.log(line('bare fast-xml-parser parse', bare));
  console.log(line('pubcat parse (PubmedRecord)', parse));
  console.log(line('pubcat worker: parse + transform + row', transform));
  const ratio = transform / bare;
  console.log(`worker share ${ratio.toFixed(3)}× bare parse; pubcat's whole target is ≤ ${TARGET_RATIO}× (bench/e2e): ${ratio <= TARGET_RATIO ? 'the worker leaves room' : 'NOT met by the worker alone'}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
