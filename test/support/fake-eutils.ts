/**
 * A fake NCBI E-utilities server for tests and benchmarks: a real HTTP server on 127.0.0.1 (random
 * port) answering efetch (db=pubmed, db=pmc), esummary (db=pmc) and esearch (history server,
 * date windows, NCBI's 9,999-hit wall) from records the caller stores in it.
 *
 * It behaves like NCBI where that matters to a client: it limits request starts per rolling second
 * (429 with NCBI's JSON body and `Retry-After`), answers after a latency (fixed + per record),
 * silently leaves out unknown PMIDs, and injects NCBI's known failures on demand (see FaultKind)
 * and hostile answers beyond them (see HostileKind). Every request is recorded so tests can
 * assert on what the server saw.
 *
 *   const server = await startFakeEutils({ rateLimit: 3, latency: { fixedMs: 5 } });
 *   server.addPubmedRecords(records);             // { pmid, xml } pairs
 *   server.setFaults({ serverError: { count: 2 } });
 *   server.setHostile({ trickle: { probability: 1 } });
 *   … new EutilsClient({ baseUrl: server.url, … }) …
 *   server.requests                               // [{ at, utility, params, status, fault }]
 *   await server.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import {
  BACKEND_TIMEOUT_MESSAGE,
  BLOCKED_PAGE,
  type Utility,
  errorInBody,
  pmcArticleSet,
  pmcSummarySet,
  pubmedArticleSet,
  rateLimitBody,
  serverErrorPage,
} from './fake-eutils-bodies.js';
import { changesRecords, HOSTILE_KINDS, type HostileKind, hostileRecord, sendHostile } from './fake-eutils-hostile.js';
import { FakeSearches, type SearchHit } from './fake-eutils-search.js';

/**
 * serverError: HTTP 500/502/503 with an HTML page · errorInBody: HTTP 200 with `<ERROR>` ·
 * truncated: HTTP 200, body cut short (complete HTTP, incomplete XML) · reset: connection
 * destroyed mid-body · hang: headers and part of the body, then nothing · dropIds: efetch pubmed
 * leaves out some records it has · blocked: HTTP 200 with NCBI's "blocked" HTML page ·
 * strayRecord: efetch pubmed adds a record nobody asked for (NCBI answers PMID 1 for "-1").
 */
export type FaultKind = 'serverError' | 'errorInBody' | 'truncated' | 'reset' | 'hang' | 'dropIds' | 'blocked' | 'strayRecord';
export const FAULT_KINDS: readonly FaultKind[] = ['serverError', 'errorInBody', 'truncated', 'reset', 'hang', 'dropIds', 'blocked', 'strayRecord'];

/** A fault hits the next `count` matching requests, then each with `probability`. */
export interface FaultRule {
  count?: number;
  probability?: number;
  /** Only these utilities (default all). */
  utilities?: Utility[];
  /** Only these databases (default all). */
  dbs?: string[];
  /** Only efetch db=pubmed requests that ask for one of these PMIDs (default any request). */
  pmids?: number[];
}
export type FaultPlan = Partial<Record<FaultKind, FaultRule>>;
/** Hostile answers, chosen by the same rules; a request that draws a fault gets no hostile answer. */
export type HostilePlan = Partial<Record<HostileKind, FaultRule>>;

export interface Latency {
  fixedMs?: number;
  perRecordMs?: number;
}

export interface FakeEutilsOptions {
  /** Request starts allowed in any rolling second; beyond it, 429 (default: unlimited). */
  rateLimit?: number;
  /** `Retry-After` sent with a 429, in seconds (default 1). */
  retryAfterSeconds?: number;
  latency?: Latency;
  faults?: FaultPlan;
  hostile?: HostilePlan;
  /** Seed of the generator deciding probabilistic faults (default 1). */
  seed?: number;
  /** Gzip bodies for clients that accept it (default false). */
  gzip?: boolean;
}

export interface RecordedRequest {
  /** Arrival time (ms since epoch). */
  at: number;
  utility: string;
  params: Record<string, string>;
  /** HTTP status sent, or 0 when the connection was reset or left hanging. */
  status: number;
  /** When the answer was complete (ms since epoch); absent for resets and hangs. */
  doneAt?: number;
  fault?: FaultKind;
  hostile?: HostileKind;
  /** Records (or ids) in the answer. */
  records: number;
}

export interface FakeEutils {
  /** Base URL ending in `/`, to use as EUTILS_BASE_URL. */
  url: string;
  requests: RecordedRequest[];
  addPubmedRecords(records: Iterable<{ pmid: number; xml: string }>): void;
  /** Records made on demand (for benchmarks with more records than memory should hold). */
  addPubmedSource(source: (pmid: number) => string | undefined): void;
  /** PMIDs efetch answers with `<DeleteCitation>`. */
  addDeletedPmids(pmids: Iterable<number>): void;
  /** JATS `<article>` strings for efetch db=pmc, keyed `PMC123`. */
  addPmcArticles(articles: Iterable<{ pmcid: string; xml: string }>): void;
  /** `<DocumentSummary>` strings for esummary db=pmc, keyed `PMC123`. */
  addPmcSummaries(summaries: Iterable<{ pmcid: string; xml: string }>): void;
  /** What esearch finds for `term` (hits carry the dates a window filters on). */
  addSearch(term: string, hits: readonly SearchHit[]): void;
  setFaults(faults: FaultPlan): void;
  setHostile(plan: HostilePlan): void;
  setRateLimit(limit: number | undefined): void;
  setLatency(latency: Latency): void;
  close(): Promise<void>;
}

export type { HostileKind, SearchHit };

export async function startFakeEutils(options: FakeEutilsOptions = {}): Promise<FakeEutils> {
  const pubmed = new Map<number, string>();
  const pubmedSources: Array<(pmid: number) => string | undefined> = [];
  const findPubmed = (pmid: number): string | undefined => {
    const stored = pubmed.get(pmid);
    if (stored !== undefined) return stored;
    for (const source of pubmedSources) {
      const made = source(pmid);
      if (made !== undefined) return made;
    }
    return undefined;
  };
  const deleted = new Set<number>();
  const pmcArticles = new Map<string, string>();
  const pmcSummaries = new Map<string, string>();
  const searches = new FakeSearches();
  const requests: RecordedRequest[] = [];
  const arrivals: number[] = [];
  const sockets = new Set<Socket>();
  let faults: FaultPlan = structuredClone(options.faults ?? {});
  let hostile: HostilePlan = structuredClone(options.hostile ?? {});
  let rateLimit = options.rateLimit;
  let latency: Latency = options.latency ?? {};
  const random = seededRandom(options.seed ?? 1);
  let errorStatus = 0;

  const pick = <K extends string>(kinds: readonly K[], plan: Partial<Record<K, FaultRule>>, pubmedOnly: (kind: K) => boolean, utility: Utility, params: Record<string, string>): K | undefined => {
    const db = params.db ?? '';
    for (const kind of kinds) {
      const rule = plan[kind];
      if (rule === undefined) continue;
      if (rule.utilities !== undefined && !rule.utilities.includes(utility)) continue;
      if (rule.dbs !== undefined && !rule.dbs.includes(db)) continue;
      if ((pubmedOnly(kind) || rule.pmids !== undefined) && (utility !== 'efetch' || db !== 'pubmed')) continue;
      if (rule.pmids !== undefined && !askedFor(params).some((pmid) => rule.pmids?.includes(pmid))) continue;
      if (rule.count !== undefined && rule.count > 0) {
        rule.count -= 1;
        return kind;
      }
      if (rule.probability !== undefined && random() < rule.probability) return kind;
    }
    return undefined;
  };

  /** The answer body and how many records it holds. */
  const answer = (utility: Utility, params: Record<string, string>, fault: FaultKind | undefined, hostileKind: HostileKind | undefined): { body: string; records: number } => {
    const ids = (params.id ?? '').split(',').map((id) => id.trim()).filter((id) => id !== '');
    if (utility === 'esearch') return searches.answer(params);
    if (params.db === 'pmc') {
      const numbers = ids.map((id) => id.replace(/^PMC/i, ''));
      const store = utility === 'efetch' ? pmcArticles : pmcSummaries;
      const found = numbers.filter((id) => store.has(`PMC${id}`));
      const missing = numbers.filter((id) => !store.has(`PMC${id}`));
      const pieces = found.map((id) => store.get(`PMC${id}`) as string);
      return { body: utility === 'efetch' ? pmcArticleSet(pieces, missing) : pmcSummarySet(pieces, missing), records: pieces.length };
    }
    const pmids = askedFor(params);
    let found = pmids.flatMap((pmid) => {
      const xml = findPubmed(pmid);
      return xml === undefined ? [] : [{ pmid, xml }];
    });
    if (fault === 'dropIds' && found.length > 0) {
      const drop = new Set(found.filter(() => random() < 0.1));
      if (drop.size === 0) drop.add(found[Math.floor(random() * found.length)] as { pmid: number; xml: string });
      found = found.filter((record) => !drop.has(record));
    }
    if (fault === 'strayRecord') {
      const asked = new Set(pmids);
      const stray = [...pubmed].find(([pmid]) => !asked.has(pmid));
      if (stray !== undefined) found.push({ pmid: stray[0], xml: stray[1] });
    }
    if (hostileKind === 'emptySet') return { body: pubmedArticleSet([], []), records: 0 };
    if (hostileKind !== undefined && changesRecords(hostileKind)) found = found.map((record) => ({ pmid: record.pmid, xml: hostileRecord(hostileKind, record.xml) }));
    const gone = pmids.filter((pmid) => deleted.has(pmid));
    return { body: pubmedArticleSet(found.map((record) => record.xml), gone), records: found.length + gone.length };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const at = Date.now();
    const params = await readParams(request);
    const utility = /^\/entrez\/eutils\/(efetch|esearch|esummary)\.fcgi$/.exec(new URL(request.url ?? '/', 'http://fake').pathname)?.[1] as
      | Utility
      | undefined;
    const entry: RecordedRequest = { at, utility: utility ?? 'unknown', params, status: 0, records: 0 };
    requests.push(entry);
    if (utility === undefined) return void send(response, entry, 404, 'text/plain', 'unknown utility');

    arrivals.push(at);
    while (arrivals.length > 0 && (arrivals[0] as number) <= at - 1000) arrivals.shift();
    if (rateLimit !== undefined && arrivals.length > rateLimit) {
      response.setHeader('Retry-After', String(options.retryAfterSeconds ?? 1));
      const body = rateLimitBody(params.api_key ?? request.socket.remoteAddress ?? '', arrivals.length, rateLimit);
      return void send(response, entry, 429, 'application/json', body);
    }

    const fault = pick(FAULT_KINDS, faults, (kind) => kind === 'dropIds' || kind === 'strayRecord', utility, params);
    if (fault !== undefined) entry.fault = fault;
    const hostileKind = fault === undefined ? pick(HOSTILE_KINDS, hostile, changesRecords, utility, params) : undefined;
    if (hostileKind !== undefined) entry.hostile = hostileKind;
    const { body, records } = answer(utility, params, fault, hostileKind);
    entry.records = records;
    await sleepMs((latency.fixedMs ?? 0) + (latency.perRecordMs ?? 0) * records);

    switch (fault) {
      case 'serverError':
        errorStatus = errorStatus === 502 ? 503 : errorStatus === 503 ? 500 : 502;
        return void send(response, entry, errorStatus, 'text/html', serverErrorPage(errorStatus));
      case 'blocked':
        return void send(response, entry, 200, 'text/html', BLOCKED_PAGE);
      case 'errorInBody':
        return void send(response, entry, 200, 'text/xml; charset=UTF-8', errorInBody(utility, BACKEND_TIMEOUT_MESSAGE));
      case 'truncated':
        return void send(response, entry, 200, 'text/xml; charset=UTF-8', body.slice(0, Math.floor(body.length * (0.1 + 0.8 * random()))));
      case 'reset':
      case 'hang':
        response.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
        response.write(body.slice(0, Math.floor(body.length / 2)));
        if (fault === 'reset') setImmediate(() => request.socket.destroy());
        return;
      default: {
        if (hostileKind !== undefined && !changesRecords(hostileKind)) return sendHostile(hostileKind, response, entry, body, random);
        const wantsGzip = options.gzip === true && /gzip/.test(String(request.headers['accept-encoding'] ?? ''));
        if (wantsGzip) {
          response.setHeader('content-encoding', 'gzip');
          return void send(response, entry, 200, 'text/xml; charset=UTF-8', gzipSync(body));
        }
        return streamBody(response, entry, body);
      }
    }
  };

  const server = createServer((request, response) => {
    // A bug in the fake must show in the test that hit it, not as a hung request.
    handle(request, response).catch(() => response.destroy());
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/entrez/eutils/`,
    requests,
    addPubmedRecords: (records) => {
      for (const { pmid, xml } of records) pubmed.set(pmid, xml);
    },
    addPubmedSource: (source) => {
      pubmedSources.push(source);
    },
    addDeletedPmids: (pmids) => {
      for (const pmid of pmids) deleted.add(pmid);
    },
    addPmcArticles: (articles) => {
      for (const { pmcid, xml } of articles) pmcArticles.set(pmcid, xml);
    },
    addPmcSummaries: (summaries) => {
      for (const { pmcid, xml } of summaries) pmcSummaries.set(pmcid, xml);
    },
    addSearch: (term, hits) => searches.add(term, hits),
    setFaults: (plan) => {
      faults = structuredClone(plan);
    },
    setHostile: (plan) => {
      hostile = structuredClone(plan);
    },
    setRateLimit: (limit) => {
      rateLimit = limit;
    },
    setLatency: (value) => {
      latency = value;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, entry: RecordedRequest, status: number, contentType: string, body: string | Buffer): void {
  entry.status = status;
  response.on('finish', () => {
    entry.doneAt = Date.now();
  });
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/**
 * Writes a large body in slices (chunked encoding, as NCBI sends it), yielding between them so
 * that one big answer does not stall the server: arrival times stay exact for the rate check.
 */
async function streamBody(response: ServerResponse, entry: RecordedRequest, body: string): Promise<void> {
  entry.status = 200;
  response.on('finish', () => {
    entry.doneAt = Date.now();
  });
  response.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
  for (let start = 0; start < body.length; start += STREAM_SLICE) {
    response.write(body.slice(start, start + STREAM_SLICE));
    await new Promise((resolve) => setImmediate(resolve));
  }
  response.end();
}

const STREAM_SLICE = 256 * 1024;

/** The PMIDs of an efetch db=pubmed request. NCBI reads "-1" as 1: do not trust that the PMID returned is the one asked for. */
function askedFor(params: Record<string, string>): number[] {
  const ids = (params.id ?? '').split(',').map((id) => id.trim()).filter((id) => id !== '');
  return [...new Set(ids.map((id) => Number(id.replace(/\D/g, ''))))];
}

/** Query string and form body together, as NCBI accepts both. */
async function readParams(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const params = Object.fromEntries(new URL(request.url ?? '/', 'http://fake').searchParams);
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params[name] = value;
  return params;
}

function sleepMs(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** mulberry32: small, fast and repeatable, so a failing fault test fails the same way again. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
