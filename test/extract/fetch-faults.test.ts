import { afterEach, describe, expect, it } from 'vitest';
import { EutilsClient } from '../../src/extract/eutils-client.js';
import { fetchPubmed } from '../../src/extract/fetch-pubmed.js';
import { FAULT_KINDS, type FakeEutils, type FaultPlan, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords, replicateRecords } from '../support/ncbi-fixtures.js';
import { outcomePmids, sorted } from '../support/request-log.js';

const PMIDS = Array.from({ length: 1500 }, (_, index) => 60_000_000 + index);
const records = replicateRecords(loadPubmedFixtureRecords(), PMIDS);
let server: FakeEutils;
let client: EutilsClient;

afterEach(async () => {
  await client.close();
  await server.close();
});

async function fetchUnder(faults: FaultPlan) {
  server = await startFakeEutils({ latency: { fixedMs: 1 }, faults, seed: 7 });
  server.addPubmedRecords(records);
  client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 1000, requestTimeoutMs: 250, backoff: { baseDelayMs: 1, maxDelayMs: 5 } });
  return fetchPubmed(client, PMIDS, { pmc: false, batchSize: 50 });
}

/** A PMID may end missing only if the last request that asked for it was answered without it. */
function missingExplainedByDrops(missing: number[]): boolean {
  return missing.every((pmid) => {
    const asks = server.requests.filter((request) => request.utility === 'efetch' && request.params.id?.split(',').includes(String(pmid)));
    return asks[asks.length - 1]?.fault === 'dropIds';
  });
}

describe('fetchPubmed under injected faults', () => {
  for (const kind of FAULT_KINDS) {
    it(`accounts for every PMID exactly once, none failed, with 10 % ${kind}`, async () => {
      const result = await fetchUnder({ [kind]: { probability: 0.1 } });
      expect(sorted(outcomePmids(result))).toEqual(PMIDS);
      expect(result.failed).toEqual([]);
      expect(missingExplainedByDrops(result.missing)).toBe(true);
      expect(server.requests.some((request) => request.fault === kind)).toBe(true);
    });
  }

  it('accounts for every PMID exactly once, none failed, with 10 % of every fault at once', async () => {
    const plan = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, { probability: 0.1 }])) as FaultPlan;
    const result = await fetchUnder(plan);
    expect(sorted(outcomePmids(result))).toEqual(PMIDS);
    expect(result.failed).toEqual([]);
    expect(missingExplainedByDrops(result.missing)).toBe(true);
    expect(client.stats.retries).toBeGreaterThan(0);
  });

  it('reports PMIDs as failed, with the reason, when the fault never clears, without splitting an outage to pieces', async () => {
    const result = await fetchUnder({ serverError: { probability: 1 } });
    expect(sorted(result.failed.map((failure) => failure.pmid))).toEqual(PMIDS);
    expect(result.failed[0]?.reason).toMatch(/HTTP 50\d/);
    expect(sorted(outcomePmids(result))).toEqual(PMIDS);
    // 30 batches × 6 attempts, plus the halves tried before the outage became clear.
    expect(server.requests.length).toBeLessThan(30 * 6 + 8 * 2 * 2);
  });
});
