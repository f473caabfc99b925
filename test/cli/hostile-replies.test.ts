/**
 * `pubcat backfill` against hostile answers (test/support/fake-eutils-hostile.ts), run as a user
 * runs it: a child process with the installed command's 512 MB heap, judged by its exit code,
 * its lines on stderr and what the catalogue holds afterwards.
 *
 * A child costs seconds of CPU, so one backfill serves several modes at once, each aimed at its
 * own PMID (batches of one), and each mode is then checked in a test of its own. The content
 * modes run on every backend, since what a database accepts is the point; the transport modes
 * on one, PostgreSQL when there is one: there the RSS is pubcat's own, while an embedded
 * database adds its memory to the process's.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/load/db.js';
import { transformPubmedRecord } from '../../src/transform/index.js';
import { backends, migratedDataDir, type TestBackend, type TestDatabase } from '../support/databases.js';
import { CLI_PATH, childEnvironment, type CliResult, runCli } from '../support/cli.js';
import { type FakeEutils, type HostilePlan, type RecordedRequest, startFakeEutils } from '../support/fake-eutils.js';
import { longDoi, longValue } from '../support/fake-eutils-hostile.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';
import { stockServer } from '../support/pipeline.js';

const HEAP_MB = 512;
/** Tight limits, so that a slow answer fails in seconds; the behaviour is the same with the defaults. */
const LIMITS = { PUBCAT_NCBI_TIMEOUT: '2', PUBCAT_NCBI_ATTEMPTS: '2', PUBCAT_MAX_RETRY_AFTER: '1' };
const seedRecord = JSON.parse(readFileSync(new URL('../fixtures/seed-record/31810187.record.json', import.meta.url), 'utf8'));
const fixtures = loadPubmedFixtureRecords();
/** The record a fixture makes when nothing hostile happens to it (no PMC data: the server has none but the seed's). */
const cleanRecord = (pmid: number) => transformPubmedRecord(fixtures.find((fixture) => fixture.pmid === pmid)!).record;

/** The PMID each content mode is aimed at; latin1 gets the seed, whose authors have é and ö. */
const CONTENT = { latin1: 31810187, bom: 38329942, nulInTitle: 24349601, longValues: 35354777, invalidUtf8: 36789012, hugeRetryAfter: 12091962 };
const CONTENT_PMIDS = Object.values(CONTENT);
const SIZE = { hugeBody: [39382274, 9997], gzipBomb: [11700088] };
const SLOW = { trickle: 32887691, stall: 38661995 };

interface Watched extends CliResult {
  ms: number;
  /** The child's peak resident set, from /proc (undefined where there is none). */
  peakRssMb: number | undefined;
}

interface StoredRecord {
  pmid: number;
  status: string;
  record: Record<string, unknown>;
  derived: Record<string, unknown>;
  journal: string | null;
  doi: string | null;
  authorFacets: string[];
}

/** One fake NCBI and one migrated catalogue of its own; runs `pubcat` against both. */
interface Scene {
  server: FakeEutils;
  run(args: string[]): Promise<Watched>;
  /** The catalogue's rows, read once the children are done. */
  records(): Promise<Map<number, StoredRecord>>;
  close(): Promise<void>;
}

/** Makes scenes on `backend`; an embedded catalogue is a copy of the migrated template. */
function sceneMaker(backend: TestBackend): { open(plan: HostilePlan, env?: Record<string, string>): Promise<Scene> } {
  return {
    async open(plan, extraEnv = {}) {
      const server = await startFakeEutils({ latency: { fixedMs: 2 }, hostile: plan });
      stockServer(server);
      // An embedded catalogue is only a directory here: the children open it, this process reads it after them.
      const dataDir = backend.name === 'pglite' ? await migratedDataDir('pubcat-hostile-') : undefined;
      const database: TestDatabase | undefined = dataDir === undefined ? await backend.open() : undefined;
      const env = {
        ...(database?.env ?? { PUBCAT_DATA_DIR: dataDir! }),
        ...LIMITS,
        EUTILS_BASE_URL: server.url,
        NCBI_EMAIL: 'pubcat-tests@example.org',
        NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
        ...extraEnv,
      };
      return {
        server,
        run: (args) => runWatched(args, env),
        records: async () => {
          const catalogue = database ?? (await openDatabase({ databaseUrl: undefined, dataDir: dataDir! }));
          try {
            return await readRecords(catalogue);
          } finally {
            if (database === undefined) await catalogue.close();
          }
        },
        close: async () => {
          await server.close();
          await database?.close();
          if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  };
}

async function readRecords(catalogue: Pick<TestDatabase, 'db'>): Promise<Map<number, StoredRecord>> {
  const rows = await catalogue.db.selectFrom('catalogue_record').select(['pmid', 'status', 'record', 'derived', 'journal', 'doi']).execute();
  const authors = await catalogue.db.selectFrom('record_facet').select(['pmid', 'value']).where('facet', '=', 'author').execute();
  return new Map(
    rows.map((row) => {
      const pmid = Number(row.pmid);
      const authorFacets = authors.filter((facet) => Number(facet.pmid) === pmid).map((facet) => facet.value);
      return [pmid, { ...row, pmid, authorFacets } as unknown as StoredRecord];
    }),
  );
}

/** Runs `pubcat` and follows its peak RSS (VmHWM) while it runs. */
function runWatched(args: string[], env: Record<string, string>): Promise<Watched> {
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: childEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakKb: number | undefined;
    const sample = setInterval(() => {
      try {
        const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
        if (Number.isFinite(kb)) peakKb = Math.max(peakKb ?? 0, kb);
      } catch {
        // No /proc here, or the child is gone.
      }
    }, 50);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(sample);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - startedAt, peakRssMb: peakKb === undefined ? undefined : peakKb / 1024 });
    });
  });
}

const backfillArgs = (pmids: number[], ...options: string[]) => ['backfill', ...pmids.map(String), '--json', ...options];
const lastLine = (result: CliResult): string => result.stderr.trimEnd().split('\n').pop() ?? '';
const logMessages = (result: CliResult): string[] =>
  result.stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
const summary = (result: CliResult): Record<string, number> => JSON.parse(result.stdout);
const hostileAnswers = (requests: RecordedRequest[], pmid: number) =>
  requests.filter((request) => request.params.db === 'pubmed' && request.params.id === String(pmid)).map((request) => request.hostile);
const utf8Bytes = (text: string | null) => Buffer.byteLength(text ?? '');

/** What the content scene of one backend left: its runs, what the server saw, and the catalogue. */
interface ContentOutcome {
  loaded: Watched;
  emptied: Watched;
  /** Requests of the first run (the loading one). */
  loadRequests: RecordedRequest[];
  records: Map<number, StoredRecord>;
}

/**
 * Loads the content modes' PMIDs (each mode on its own PMID, a 429 asking for 100,000 s on one),
 * then asks for them again while NCBI answers every efetch with an empty set.
 */
async function contentScene(scene: Scene): Promise<ContentOutcome> {
  const loaded = await scene.run(backfillArgs(CONTENT_PMIDS, '--batch-size', '1'));
  const loadRequests = [...scene.server.requests];
  scene.server.setHostile({ emptySet: { probability: 1 } });
  const emptied = await scene.run(backfillArgs(CONTENT_PMIDS, '--batch-size', '1'));
  return { loaded, emptied, loadRequests, records: await scene.records() };
}

const CONTENT_PLAN: HostilePlan = {
  ...Object.fromEntries(Object.entries(CONTENT).map(([mode, pmid]) => [mode, { pmids: [pmid], probability: 1 }])),
  hugeRetryAfter: { pmids: [CONTENT.hugeRetryAfter], count: 1 },
};
const transportBackend = backends.find((backend) => backend.name === 'postgres') ?? (backends[0] as TestBackend);
const makers = new Map(backends.map((backend) => [backend.name, sceneMaker(backend)]));
const scenes: Scene[] = [];
const content = new Map<string, ContentOutcome>();
let sizeScene: Scene;
let slowScene: Scene;
let sized: Watched;
let slow: Watched;

// Every scene at once: the slow ones mostly wait, and a child's start-up is mostly CPU.
beforeAll(async () => {
  const open = async (backend: TestBackend, plan: HostilePlan, env?: Record<string, string>): Promise<Scene> => {
    const scene = await makers.get(backend.name)!.open(plan, env);
    scenes.push(scene);
    return scene;
  };
  await Promise.all([
    ...backends.map(async (backend) => content.set(backend.name, await contentScene(await open(backend, CONTENT_PLAN)))),
    (async () => {
      // Time enough to read up to the cap on a busy machine: the attempt must end at the cap, not at its timeout.
      sizeScene = await open(
        transportBackend,
        { hugeBody: { pmids: SIZE.hugeBody, probability: 1 }, gzipBomb: { pmids: SIZE.gzipBomb, probability: 1 } },
        { PUBCAT_NCBI_TIMEOUT: '60' },
      );
      sized = await sizeScene.run(backfillArgs([...SIZE.hugeBody, ...SIZE.gzipBomb], '--no-pmc'));
    })(),
    (async () => {
      slowScene = await open(transportBackend, { trickle: { pmids: [SLOW.trickle], probability: 1 }, stall: { pmids: [SLOW.stall], probability: 1 } });
      slow = await slowScene.run(backfillArgs(Object.values(SLOW), '--batch-size', '1', '--no-pmc'));
    })(),
  ]);
}, 120_000);
afterAll(async () => {
  for (const scene of scenes) await scene.close();
});

describe.each(backends)('pubcat backfill against hostile record content on $name', (backend) => {
  const outcome = (): ContentOutcome => content.get(backend.name)!;
  const stored = (pmid: number): StoredRecord | undefined => outcome().records.get(pmid);

  it('loads every record it met with a hostile content, exit 0', () => {
    const { loaded, loadRequests } = outcome();
    expect(lastLine(loaded)).toMatch(/^backfill run 1: 6 requested, 6 inserted, 0 updated, 0 unchanged, 0 deleted, 0 missing, 0 failed in [\d.]+s$/);
    expect(loaded.code).toBe(0);
    for (const [mode, pmid] of Object.entries(CONTENT)) expect(hostileAnswers(loadRequests, pmid)[0]).toBe(mode);
  });

  it('loads a record sent in ISO-8859-1 with the right text', () => {
    expect(stored(CONTENT.latin1)?.record).toEqual(seedRecord);
    expect(stored(CONTENT.latin1)?.record.author).toContain('Törnqvist Andrén, Anton');
  });

  it('loads a record sent behind a UTF-8 byte-order mark with the right text', () => {
    expect(stored(CONTENT.bom)?.record).toEqual(cleanRecord(CONTENT.bom));
  });

  it('loads a record whose title holds a NUL character, without it', () => {
    expect(stored(CONTENT.nulInTitle)?.record).toEqual(cleanRecord(CONTENT.nulInTitle));
  });

  it('loads a record with a 3,000-character author name, journal title and DOI: whole in the record, cut where indexed', () => {
    const long = stored(CONTENT.longValues)!;
    const name = `${longValue('Łukasiewicz-')}, Nicholas J`;
    expect((long.record.author as string[])[0]).toBe(name);
    expect(long.derived).toMatchObject({ container_title: longValue('Journal of long titles '), doi_str_mv: [longDoi()] });
    for (const [indexed, whole] of [
      [long.journal, longValue('Journal of long titles ')],
      [long.doi, longDoi()],
      [long.authorFacets.find((value) => value.startsWith('Łukasiewicz')) ?? null, name],
    ] as const) {
      expect(whole.startsWith(indexed ?? '-')).toBe(true);
      expect(utf8Bytes(indexed)).toBeGreaterThan(1_990);
      expect(utf8Bytes(indexed)).toBeLessThanOrEqual(2_000);
    }
  });

  it('loads a record whose bytes are not UTF-8 with U+FFFD, and warns naming its PMID', () => {
    expect(logMessages(outcome().loaded)).toContain(`invalid UTF-8 in NCBI's efetch answer for PMIDs ${CONTENT.invalidUtf8}; bytes replaced by U+FFFD`);
    expect(JSON.stringify(stored(CONTENT.invalidUtf8)?.record)).toContain('\uFFFD');
  });

  it('waits no longer than PUBCAT_MAX_RETRY_AFTER when a 429 asks for 100,000 s, says so, then loads the record', () => {
    const { loaded, loadRequests } = outcome();
    expect(logMessages(loaded)).toContain('NCBI asked to wait 100000 s (Retry-After: 100000); waiting 1 s, the PUBCAT_MAX_RETRY_AFTER cap');
    const asked = loadRequests.filter((request) => request.params.db === 'pubmed' && request.params.id === String(CONTENT.hugeRetryAfter));
    expect(asked.map((request) => request.status)).toEqual([429, 200]);
    const waitedMs = (asked[1]?.at ?? 0) - (asked[0]?.at ?? 0);
    // The pause, then the starts queued before the retry at 3 a second, on what may be a busy machine.
    expect(waitedMs).toBeGreaterThanOrEqual(950);
    expect(waitedMs).toBeLessThan(15_000);
    expect(stored(CONTENT.hugeRetryAfter)?.record).toEqual(cleanRecord(CONTENT.hugeRetryAfter));
  });

  it('tombstones nothing when NCBI answers an empty set: the run ends partial and every record stays', () => {
    const { emptied, records } = outcome();
    expect(lastLine(emptied)).toMatch(/^pubcat: backfill run 2 is partial: .*run the same command again to retry them$/);
    expect(emptied.code).toBe(2);
    expect(summary(emptied)).toMatchObject({ requested: 6, inserted: 0, deleted: 0, failed: 6 });
    expect([...records.values()].map((row) => [row.pmid, row.status]).sort()).toEqual(CONTENT_PMIDS.map((pmid) => [pmid, 'active']).sort());
  });
});

describe(`pubcat backfill against hostile answers on ${transportBackend.name}`, () => {
  it('fails the PMIDs of a 300 MiB answer and of a gzip bomb with the sizes, exit 2, within its heap', () => {    expect(lastLine(sized)).toMatch(/^pubcat: backfill run 1 is partial: 3 PMIDs failed .*run the same command again to retry them$/);
    expect(sized.code).toBe(2);
    const messages = logMessages(sized);
    for (const pmid of [...SIZE.hugeBody, ...SIZE.gzipBomb]) {
      const reason = new RegExp(`^PMID ${pmid} failed: NCBI's answer for PMID ${pmid} was over the ([\\d.]+) MB this process can parse \\(`);
      const capMb = Number(messages.map((message) => reason.exec(message)?.[1]).find((found) => found !== undefined));
      // An eighth of the heap, give or take V8's young generation, in MB of 10⁶ bytes.
      expect(capMb).toBeGreaterThan((HEAP_MB / 8) * 0.9);
      expect(capMb).toBeLessThan((HEAP_MB / 8) * 1.3);
    }
    expect(messages.some((message) => message.startsWith(`PMID ${SIZE.gzipBomb[0]} failed:`) && message.endsWith('once inflated (gzip))'))).toBe(true);
    // The three together, then [39382274, 9997] and [11700088], then each of the first two: never one asked again.
    expect(sizeScene.server.requests.map((request) => request.hostile)).toEqual(['hugeBody', 'hugeBody', 'gzipBomb', 'hugeBody', 'hugeBody']);
    if (transportBackend.name === 'postgres') expect(sized.peakRssMb ?? 0).toBeLessThan(HEAP_MB);
  });

  it('fails the PMIDs whose answers trickle in or stop after the headers, each within PUBCAT_NCBI_TIMEOUT per attempt', () => {
    expect(lastLine(slow)).toMatch(/^pubcat: backfill run 1 is partial: 2 PMIDs failed .*run the same command again to retry them$/);
    expect(slow.code).toBe(2);
    for (const pmid of Object.values(SLOW)) {
      expect(logMessages(slow)).toContain(`PMID ${pmid} failed: efetch failed after 2 attempt(s): body cut off: no complete answer within 2000 ms`);
    }
    expect(slowScene.server.requests.map((request) => request.hostile).sort()).toEqual(['stall', 'stall', 'trickle', 'trickle']);
    // Two attempts of 2 s and a backoff of at most 1 s, with room for the process to start and end
    // on a busy machine: far below a single attempt of the default 120 s.
    expect(slow.ms).toBeLessThan(30_000);
  });

  it('refuses a PUBCAT_NCBI_TIMEOUT or PUBCAT_MAX_RETRY_AFTER that is not a whole number of seconds from 1 to 3600', async () => {
    const [timeout, retryAfter] = await Promise.all([
      runCli(['backfill', '1'], { PUBCAT_NCBI_TIMEOUT: '0' }),
      runCli(['backfill', '1'], { PUBCAT_MAX_RETRY_AFTER: '1.5' }),
    ]);
    expect([timeout.code, timeout.stderr]).toEqual([1, 'pubcat: PUBCAT_NCBI_TIMEOUT="0" is not valid: expected a whole number of seconds from 1 to 3600\n']);
    expect([retryAfter.code, retryAfter.stderr]).toEqual([1, 'pubcat: PUBCAT_MAX_RETRY_AFTER="1.5" is not valid: expected a whole number of seconds from 1 to 3600\n']);
  });
});
