import { afterEach, describe, expect, it } from 'vitest';
import { createBatchTransformer, WORKER_HEAP_MB, type BatchTransformer } from '../../src/pipeline/transform-pool.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';

const HEAP_EXHAUSTING_WORKER = new URL('../support/heap-exhausting-worker.mjs', import.meta.url);
/** The worker as the command runs it (vitest runs the TypeScript sources; workers need the build). */
const BUILT_WORKER = new URL('../../dist/src/pipeline/transform-worker.js', import.meta.url);

describe('transform worker pool', () => {
  let pool: BatchTransformer | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('fails only the record that exhausts a worker heap, replaces the worker and transforms the rest', async () => {
    const records = loadPubmedFixtureRecords().filter((record) => record.kind === 'article');
    const poisoned = { ...records[3]!, xml: records[3]!.xml.replace('</ArticleTitle>', ' HEAP-EXHAUSTING-RECORD</ArticleTitle>') };
    const batch = [...records.slice(0, 3), poisoned, ...records.slice(4)];
    pool = createBatchTransformer(2, HEAP_EXHAUSTING_WORKER);

    const outcome = await pool.transform({ records: batch, pmc: [] });

    expect(outcome.failed).toEqual([{ pmid: poisoned.pmid, reason: `transform: the worker died on this record (out of its ${WORKER_HEAP_MB} MB heap)` }]);
    expect(outcome.rows.map((row) => row.pmid).sort()).toEqual(batch.filter((record) => record !== poisoned).map((record) => record.pmid).sort());
    const after = await pool.transform({ records: records.slice(0, 2), pmc: [] });
    expect(after.rows).toHaveLength(2);
  }, 60_000);

  it('gives the same rows on workers as inline', async () => {
    const records = loadPubmedFixtureRecords();
    pool = createBatchTransformer(2, BUILT_WORKER);
    const onWorkers = await pool.transform({ records, pmc: [] });
    const inline = await createBatchTransformer(0).transform({ records, pmc: [] });
    expect(onWorkers).toEqual(inline);
  });
});
