/**
 * Throughput of the transform stage (parse + record + derived fields + facets + hash) on one
 * core, over every PubmedArticle in the test fixtures, next to its bound: a bare fast-xml-parser
 * parse (default options) of the same bytes. Target: transform MB/s ≥ 1.3 × bare parse MB/s,
 * reachable because the parser skips what the record never reads (ReferenceList, affiliations…).
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/transform.js
 */
import { pathToFileURL } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import { transformPubmedRecord } from '../src/transform/index.js';
import { pubmedDocuments, recordChunks } from '../test/transform/pubmed-fixtures.js';

const TARGET_RATIO = 1.3;
const MIN_SECONDS = 4;

interface Measurement {
  recordsPerSecond: number;
  megabytesPerSecond: number;
}

/**
 * Times the passes over the whole mix in alternation, one pass of each per round, so that load
 * from other processes on the machine falls on both alike and the ratio stays fair.
 */
function measureAlternating<T>(
  records: readonly T[],
  bytes: number,
  passes: readonly ((record: T) => void)[],
): Measurement[] {
  for (const pass of passes) for (const record of records) pass(record);
  const seconds = passes.map(() => 0);
  let rounds = 0;
  while (seconds.reduce((a, b) => a + b, 0) < MIN_SECONDS) {
    passes.forEach((pass, i) => {
      const start = process.hrtime.bigint();
      for (const record of records) pass(record);
      seconds[i] = (seconds[i] ?? 0) + Number(process.hrtime.bigint() - start) / 1e9;
    });
    rounds += 1;
  }
  return seconds.map((elapsed) => ({
    recordsPerSecond: (records.length * rounds) / elapsed,
    megabytesPerSecond: (bytes * rounds) / elapsed / 1e6,
  }));
}

export async function main(): Promise<void> {
  const chunks = pubmedDocuments()
    .flatMap((document) => recordChunks(document.xml))
    .filter((chunk) => chunk.kind === 'article');
  const bytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.xml), 0);

  const bareParser = new XMLParser();
  const [bare, transform] = measureAlternating(chunks, bytes, [
    (chunk) => bareParser.parse(chunk.xml),
    (chunk) => transformPubmedRecord({ pmid: chunk.pmid, kind: 'article', xml: chunk.xml }),
  ]);
  if (bare === undefined || transform === undefined) throw new Error('no measurement');

  const ratio = transform.megabytesPerSecond / bare.megabytesPerSecond;
  const line = (name: string, m: Measurement): string =>
    `${name.padEnd(28)} ${m.recordsPerSecond.toFixed(0).padStart(8)} records/s ${m.megabytesPerSecond.toFixed(2).padStart(7)} MB/s`;
  console.log(`transform bench: ${chunks.length} PubmedArticle records, ${(bytes / 1e6).toFixed(2)} MB, single core`);
  console.log(line('bare fast-xml-parser parse', bare));
  console.log(line('parse + transform', transform));
  console.log(`ratio ${ratio.toFixed(2)}× (target ≥ ${TARGET_RATIO}×): ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
