/**
 * The E-utilities client against answers meant to hurt it: too slow, too large, too long a
 * pause asked for, or in another encoding than it expects.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EutilsError } from '../../src/errors.js';
import { decodeBody } from '../../src/extract/decode-body.js';
import { cutPubmedArticleSet } from '../../src/extract/efetch-response.js';
import { EutilsClient, type EutilsClientOptions } from '../../src/extract/eutils-client.js';
import { fetchPubmed } from '../../src/extract/fetch-pubmed.js';
import { OversizeResponseError, responseCapBytes } from '../../src/extract/response-body.js';
import { type FakeEutils, type HostileKind, startFakeEutils } from '../support/fake-eutils.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';

const SEED_PMID = 31810187;
const MIB = 1024 * 1024;
let server: FakeEutils;
let client: EutilsClient;
let logLines: string[];
/** What the test opened, to close after it (the decodeBody tests open nothing). */
let opened: Array<{ close(): Promise<void> }> = [];

async function setUp(hostile: HostileKind, count: number | undefined, clientOptions: Partial<EutilsClientOptions> = {}): Promise<void> {
  server = await startFakeEutils({ latency: { fixedMs: 1 }, hostile: { [hostile]: count === undefined ? { probability: 1 } : { count } } });
  server.addPubmedRecords(loadPubmedFixtureRecords());
  logLines = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _encoding, done) => (logLines.push(String(chunk)), done()) }));
  client = new EutilsClient({
    baseUrl: server.url,
    tool: 'pubcat-test',
    maxRps: 200,
    requestTimeoutMs: 2_000,
    backoff: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    logger,
    ...clientOptions,
  });
  opened = [client, server];
}

afterEach(async () => {
  for (const resource of opened) await resource.close();
  opened = [];
});

const fetchSeed = () => client.efetch({ db: 'pubmed', id: String(SEED_PMID) }, cutPubmedArticleSet);
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as EutilsError);
const messages = () => logLines.map((line) => JSON.parse(line) as { msg: string; [field: string]: unknown });

describe('EutilsClient against a slow answer', () => {
  for (const kind of ['trickle', 'stall'] as const) {
    it(`gives up a ${kind} answer when the attempt's time is up, body included`, async () => {
      await setUp(kind, undefined, { requestTimeoutMs: 400, backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
      const started = Date.now();
      const error = await failureOf(fetchSeed());
      expect(error?.message).toBe('efetch failed after 2 attempt(s): body cut off: no complete answer within 400 ms');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(server.requests.map((request) => request.hostile)).toEqual([kind, kind]);
    });
  }
});

describe('EutilsClient and Retry-After', () => {
  it('waits no longer than its cap when a 429 asks for 100,000 s, says so once, then gets the answer', async () => {
    await setUp('hugeRetryAfter', 1, { maxRetryAfterMs: 300 });
    const started = Date.now();
    const pieces = await fetchSeed();
    expect(pieces.records.map((record) => record.pmid)).toEqual([SEED_PMID]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.requests.map((request) => request.status)).toEqual([429, 200]);
    const capped = messages().filter((line) => line.msg.includes('Retry-After'));
    expect(capped.map((line) => line.msg)).toEqual(['NCBI asked to wait 100000 s (Retry-After: 100000); waiting 0.3 s, the PUBCAT_MAX_RETRY_AFTER cap']);
    expect(capped[0]).toMatchObject({ askedSeconds: 100_000, usedSeconds: 0.3 });
  });
});

describe('EutilsClient and answers too large to parse', () => {
  it('refuses a body whose content-length is over the cap before reading it, and does not ask again', async () => {
    server = await startFakeEutils({ gzip: true });
    server.addPubmedRecords(loadPubmedFixtureRecords());
    client = new EutilsClient({ baseUrl: server.url, tool: 'pubcat-test', maxRps: 200, maxResponseBytes: 1000 });
    opened = [client, server];
    const error = await failureOf(fetchSeed());
    expect(error?.cause).toBeInstanceOf(OversizeResponseError);
    expect(error?.message).toMatch(/^efetch failed after 1 attempt\(s\): response of \d+ bytes exceeds the 1000-byte cap$/);
    expect(server.requests).toHaveLength(1);
  });

  it('stops reading a streamed body as soon as it passes the cap', async () => {
    await setUp('hugeBody', undefined, { maxResponseBytes: MIB });
    const error = await failureOf(fetchSeed());
    expect(error?.message).toBe(`efetch failed after 1 attempt(s): response exceeds the ${MIB}-byte cap`);
    expect((error?.cause as OversizeResponseError).bytes).toBeUndefined();
    expect(client.stats.bytes).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('stops inflating a gzip bomb as soon as its output passes the cap', async () => {
    await setUp('gzipBomb', undefined, { maxResponseBytes: MIB });
    const error = await failureOf(fetchSeed());
    expect(error?.message).toBe(`efetch failed after 1 attempt(s): response exceeds the ${MIB}-byte cap once inflated (gzip)`);
    expect(server.requests).toHaveLength(1);
  });

  it('splits an oversize batch at once down to single PMIDs, each failed with the sizes', async () => {
    await setUp('hugeBody', undefined, { maxResponseBytes: MIB });
    const pmids = [SEED_PMID, 24349601, 35354777];
    const result = await fetchPubmed(client, pmids, { pmc: false });
    expect(result.failed).toEqual(
      pmids.map((pmid) => ({
        pmid,
        reason: `NCBI's answer for PMID ${pmid} was over the 1.0 MB this process can parse (response exceeds the ${MIB}-byte cap)`,
      })),
    );
    // [3] → [2] + [1] → [1] + [1]: one request each, none repeated.
    expect(server.requests).toHaveLength(5);
  });

  it('takes an eighth of the heap as its cap, never more than the configured maximum', () => {
    expect(responseCapBytes(256 * MIB, 560 * MIB)).toBe(70 * MIB);
    expect(responseCapBytes(10 * MIB, 560 * MIB)).toBe(10 * MIB);
  });
});

describe('EutilsClient and text encodings', () => {
  it('reads an answer behind a UTF-8 byte-order mark', async () => {
    await setUp('bom', 1);
    const pieces = await fetchSeed();
    expect(pieces.records.map((record) => record.pmid)).toEqual([SEED_PMID]);
    expect(server.requests.map((request) => request.hostile)).toEqual(['bom']);
  });

  it('reads an answer in the ISO-8859-1 its XML declaration names', async () => {
    await setUp('latin1', 1);
    const pieces = await fetchSeed();
    expect(pieces.records[0]?.xml).toContain('<LastName>Törnqvist Andrén</LastName>');
    expect(client.stats.invalidEncoding).toBe(0);
  });

  it('reads invalid UTF-8 with U+FFFD, counts it and names the PMIDs asked for in a warning', async () => {
    await setUp('invalidUtf8', 1);
    const pieces = await client.efetch({ db: 'pubmed', id: `${SEED_PMID},24349601` }, cutPubmedArticleSet);
    expect(pieces.records[0]?.xml).toContain('<LastName>T\uFFFDrnqvist Andr\uFFFDn</LastName>');
    expect(client.stats.invalidEncoding).toBe(1);
    expect(messages().map((line) => line.msg)).toEqual([
      `invalid UTF-8 in NCBI's efetch answer for PMIDs ${SEED_PMID}, 24349601; bytes replaced by U+FFFD`,
    ]);
  });
});

describe('decodeBody', () => {
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

  it('decodes valid UTF-8 as it is, and drops its byte-order mark', () => {
    expect(decodeBody(Buffer.from('<a>café</a>'))).toEqual({ text: '<a>café</a>', encoding: 'utf-8', lossy: false });
    expect(decodeBody(bytes([0xef, 0xbb, 0xbf], '<a/>')).text).toBe('<a/>');
  });

  it('takes the encoding from the XML declaration, then from the content type', () => {
    expect(decodeBody(bytes('<?xml version="1.0" encoding="ISO-8859-1"?><a>caf', [0xe9], '</a>')).text).toMatch(/<a>café<\/a>$/);
    expect(decodeBody(bytes("<?xml version='1.0' encoding='windows-1252'?><a>", [0x80], '</a>')).text).toMatch(/<a>€<\/a>$/);
    expect(decodeBody(bytes('<a>caf', [0xe9], '</a>'), 'text/xml; charset=iso-8859-1')).toEqual({ text: '<a>café</a>', encoding: 'windows-1252', lossy: false });
    expect(decodeBody(bytes('<?xml version="1.0" encoding="ISO-8859-1"?><a>caf', [0xe9], '</a>'), 'text/xml; charset=UTF-8').lossy).toBe(false);
  });

  it('reads UTF-16 marked by its byte-order mark', () => {
    expect(decodeBody(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>café</a>', 'utf16le')]))).toEqual({ text: '<a>café</a>', encoding: 'utf-16le', lossy: false });
  });

  it('falls back to UTF-8 for an encoding it does not know, and says when bytes were lost', () => {
    expect(decodeBody(bytes('<?xml version="1.0" encoding="EBCDIC-XYZ"?><a>caf', [0xe9], '</a>'))).toEqual({
      text: '<?xml version="1.0" encoding="EBCDIC-XYZ"?><a>caf\uFFFD</a>',
      encoding: 'utf-8',
      lossy: true,
    });
  });
});
