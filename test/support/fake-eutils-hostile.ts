/**
 * Hostile answers of the fake E-utilities server: what a broken proxy, a misconfigured front end
 * or a strange record may send, beyond NCBI's own known failures (FaultKind). Each one is valid
 * HTTP; what is wrong is its size, its pace, its encoding or its content.
 *
 * emptySet: HTTP 200 with a well-formed, empty `<PubmedArticleSet>` (NCBI's outage answer) ·
 * nulInTitle: a NUL character inside each record's title · longValues: a 3,000-character author
 * name, journal title and DOI in each record · hugeBody: 300 MiB of whitespace before the
 * records, streamed · gzipBomb: a 300 KB gzip body that inflates to 300 MiB · trickle: the body
 * one byte every 50–100 ms · hugeRetryAfter: 429 with `Retry-After: 100000` · bom: a UTF-8
 * byte-order mark before the body · latin1: the body in ISO-8859-1, so declared, with raw bytes
 * such as 0xE9 · invalidUtf8: the same bytes, declared as nothing (so read as UTF-8) · stall:
 * the headers, then nothing.
 */
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

export type HostileKind =
  | 'emptySet'
  | 'nulInTitle'
  | 'longValues'
  | 'hugeBody'
  | 'gzipBomb'
  | 'trickle'
  | 'hugeRetryAfter'
  | 'bom'
  | 'latin1'
  | 'invalidUtf8'
  | 'stall';
export const HOSTILE_KINDS: readonly HostileKind[] = [
  'emptySet',
  'nulInTitle',
  'longValues',
  'hugeBody',
  'gzipBomb',
  'trickle',
  'hugeRetryAfter',
  'bom',
  'latin1',
  'invalidUtf8',
  'stall',
];

/** Kinds that change the records of an efetch db=pubmed answer, and only there. */
type RecordKind = 'emptySet' | 'nulInTitle' | 'longValues';
/** Kinds that change how an answer is sent. */
export type SendingKind = Exclude<HostileKind, RecordKind>;

export function changesRecords(kind: HostileKind): kind is RecordKind {
  return kind === 'emptySet' || kind === 'nulInTitle' || kind === 'longValues';
}

export const HUGE_RETRY_AFTER_SECONDS = 100_000;
export const LONG_VALUE_LENGTH = 3_000;
const PADDING_MIB = 300;
const MIB = 1024 * 1024;

/** A long value made of `unit`, `LONG_VALUE_LENGTH` characters exactly. */
export function longValue(unit: string): string {
  return unit.repeat(Math.ceil(LONG_VALUE_LENGTH / unit.length)).slice(0, LONG_VALUE_LENGTH);
}

/** A record as a `nulInTitle` or `longValues` answer carries it. */
export function hostileRecord(kind: RecordKind, xml: string): string {
  if (kind === 'nulInTitle') return xml.replace(/(<ArticleTitle>[^<\s]*)/, '$1\u0000');
  if (kind !== 'longValues') return xml;
  // Two-byte characters in the name, so that its UTF-8 passes PostgreSQL's btree entry limit.
  return xml
    .replace(/<LastName>[^<]*<\/LastName>/, `<LastName>${longValue('Łukasiewicz-')}</LastName>`)
    .replace(/(<Journal>[\s\S]*?<Title>)[^<]*(<\/Title>)/, `$1${longValue('Journal of long titles ')}$2`)
    .replace(/(<ELocationID EIdType="doi"[^>]*>)[^<]*/, `$1${longDoi()}`)
    .replace(/(<ArticleId IdType="doi">)[^<]*/, `$1${longDoi()}`);
}

export function longDoi(): string {
  return `10.1234/${longValue('x')}`.slice(0, LONG_VALUE_LENGTH);
}

/** Statuses and times of an answer, as the server records them. */
export interface AnswerEntry {
  status: number;
  doneAt?: number;
}

/** Sends `body` the hostile way of `kind`; `random` gives the trickle its pace. */
export async function sendHostile(kind: SendingKind, response: ServerResponse, entry: AnswerEntry, body: string, random: () => number): Promise<void> {
  entry.status = kind === 'hugeRetryAfter' ? 429 : 200;
  response.on('finish', () => {
    entry.doneAt = Date.now();
  });
  switch (kind) {
    case 'hugeRetryAfter': {
      const refusal = JSON.stringify({ error: 'API rate limit exceeded', count: '1', limit: '3' });
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(HUGE_RETRY_AFTER_SECONDS), 'content-length': Buffer.byteLength(refusal) });
      return void response.end(refusal);
    }
    case 'bom':
      return finish(response, 'text/xml; charset=UTF-8', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    case 'latin1':
      // Labelled UTF-8 as NCBI's front ends label everything: the declaration tells the truth.
      return finish(response, 'text/xml; charset=UTF-8', toLatin1(body, true));
    case 'invalidUtf8':
      return finish(response, 'text/xml; charset=UTF-8', toLatin1(body, false));
    case 'gzipBomb':
      response.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8', 'content-encoding': 'gzip', 'content-length': gzipBomb().length });
      return void response.end(gzipBomb());
    case 'hugeBody': {
      response.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
      const [head, rest] = splitAfterRoot(body);
      const padding = Buffer.alloc(MIB, 0x20);
      await writeAll(response, [head, ...Array.from({ length: PADDING_MIB }, () => padding), rest]);
      return;
    }
    case 'trickle': {
      response.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
      const bytes = Buffer.from(body);
      for (let index = 0; index < bytes.length && !response.destroyed; index += 1) {
        response.write(bytes.subarray(index, index + 1));
        await new Promise((resolve) => setTimeout(resolve, 50 + 50 * random()));
      }
      return void response.end();
    }
    case 'stall':
      response.writeHead(200, { 'content-type': 'text/xml; charset=UTF-8' });
      // Without a body write, Node would hold the headers back too.
      return void response.flushHeaders();
  }
}

function finish(response: ServerResponse, contentType: string, body: Buffer): void {
  response.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
  response.end(body);
}

/**
 * The body re-encoded in ISO-8859-1, `declared` so or not: characters up to U+00FF (written as
 * references in NCBI's XML) become single raw bytes, and the rest become references.
 */
function toLatin1(body: string, declared: boolean): Buffer {
  const text = (declared ? body.replace(/^<\?xml[^?]*\?>/, '<?xml version="1.0" encoding="ISO-8859-1"?>') : body)
    .replace(/&#x([0-9a-fA-F]+);|&#(\d+);/g, (reference, hex: string | undefined, decimal: string | undefined) => {
      const code = hex === undefined ? Number(decimal) : parseInt(hex, 16);
      return code >= 0x80 && code <= 0xff ? String.fromCharCode(code) : reference;
    })
    .replace(/[^\u0000-\u00ff]/gu, (character) => `&#x${(character.codePointAt(0) as number).toString(16)};`);
  return Buffer.from(text, 'latin1');
}

/** The body up to and including its root's start tag, and the rest. */
function splitAfterRoot(body: string): [string, string] {
  const match = /<(PubmedArticleSet|pmc-articleset|eSummaryResult|eSearchResult)[^>]*>/.exec(body);
  const end = match === null ? 0 : match.index + match[0].length;
  return [body.slice(0, end), body.slice(end)];
}

let bomb: Buffer | undefined;

/**
 * A well-formed, empty PubmedArticleSet with 300 MiB of whitespace inside, made once: one gzip
 * member per MiB of padding (gunzip reads concatenated members as one stream), about 1 KB each.
 */
function gzipBomb(): Buffer {
  if (bomb === undefined) {
    const padding = gzipSync(Buffer.alloc(MIB, 0x20), { level: 9 });
    bomb = Buffer.concat([
      gzipSync('<?xml version="1.0" ?>\n<PubmedArticleSet>\n'),
      ...Array.from({ length: PADDING_MIB }, () => padding),
      gzipSync('</PubmedArticleSet>'),
    ]);
  }
  return bomb;
}

/** Writes the pieces as fast as the client reads them; stops when it goes away. */
async function writeAll(response: ServerResponse, pieces: Iterable<string | Buffer>): Promise<void> {
  for (const piece of pieces) {
    if (response.destroyed) return;
    if (response.write(piece)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const onDrain = (): void => settle(true);
      const onClose = (): void => settle(false);
      const settle = (value: boolean): void => {
        response.off('drain', onDrain).off('close', onClose);
        resolve(value);
      };
      response.on('drain', onDrain).on('close', onClose);
    });
    if (!drained) return;
  }
  response.end();
}
