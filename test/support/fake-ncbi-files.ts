/**
 * A stand-in for NCBI's bulk file server (https://ftp.ncbi.nlm.nih.gov/pubmed/) on 127.0.0.1 and
 * a random port: `baseline/` and `updatefiles/` listed as Apache-style HTML indexes, each data
 * file with its `.md5` beside it in OpenSSL's form, byte ranges answered with 206, and faults to
 * inject: a connection cut after some bytes, error statuses, a Range ignored, a request left
 * without an answer.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { BulkCollection } from '../../src/extract/bulk-files-listing.js';

export interface FakeFilesRequest {
  path: string;
  range: string | undefined;
  status: number;
}

export interface FakeNcbiFiles {
  /** PUBCAT_FILES_BASE_URL for the server: `http://127.0.0.1:PORT/pubmed/`. */
  url: string;
  requests: FakeFilesRequest[];
  /** Serves `content` as `name` in the collection, with its `.md5` (unless `md5` says otherwise). */
  put(collection: BulkCollection, name: string, content: Buffer, options?: { md5?: string | null }): void;
  /** Serves `html` as the collection's index page instead of the one built from its files. */
  setListing(collection: BulkCollection, html: string | undefined): void;
  /** The next `times` GETs of `name` send their headers and `bytes` bytes of the body, then cut the connection. */
  cutAfter(name: string, bytes: number, times?: number): void;
  /** The next `times` requests for `name` (a data file, an `.md5` or `""` for a listing) answer `status`. */
  failNext(name: string, status: number, times?: number): void;
  /** The next request for `name` gets no answer at all (until the server closes). */
  stallNext(name: string): void;
  /** Answer every Range request with the whole file and 200, as servers without range support do. */
  ignoreRanges(ignore: boolean): void;
  close(): Promise<void>;
}

const DIRECTORY: Record<BulkCollection, string> = { baseline: 'baseline', updates: 'updatefiles' };

export async function startFakeNcbiFiles(): Promise<FakeNcbiFiles> {
  const files: Record<string, Map<string, Buffer>> = { baseline: new Map(), updatefiles: new Map() };
  const listings = new Map<string, string>();
  const cuts = new Map<string, { bytes: number; times: number }>();
  const failures = new Map<string, { status: number; times: number }>();
  const stalls = new Set<string>();
  const sockets = new Set<Socket>();
  const requests: FakeFilesRequest[] = [];
  let rangesIgnored = false;

  const answer = (request: IncomingMessage, response: ServerResponse): void => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const range = request.headers.range;
    const match = /^\/pubmed\/(baseline|updatefiles)\/(.*)$/.exec(path);
    const note = (status: number): void => void requests.push({ path, range, status });
    if (match === null) {
      note(404);
      return void response.writeHead(404).end('Not Found');
    }
    const [, directory, name] = match as unknown as [string, string, string];
    if (stalls.delete(name)) return note(0);
    const failure = failures.get(name);
    if (failure !== undefined) {
      if (--failure.times <= 0) failures.delete(name);
      note(failure.status);
      return void response.writeHead(failure.status, { 'content-type': 'text/html' }).end(`<html><body>${failure.status}</body></html>`);
    }
    if (name === '') {
      note(200);
      return void response.writeHead(200, { 'content-type': 'text/html;charset=UTF-8' }).end(listings.get(directory) ?? indexPage(directory, files[directory]!));
    }
    const body = files[directory]!.get(name);
    if (body === undefined) {
      note(404);
      return void response.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404 Not Found</body></html>');
    }
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    const asked = range === undefined || rangesIgnored ? null : /^bytes=(\d+)-(\d*)$/.exec(range);
    if (asked !== null) {
      start = Number(asked[1]);
      if (asked[2] !== '') end = Math.min(end, Number(asked[2]));
      if (start >= body.length) {
        note(416);
        return void response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      }
      status = 206;
    }
    note(status);
    const slice = body.subarray(start, end + 1);
    response.writeHead(status, {
      'content-type': name.endsWith('.md5') ? 'text/plain' : 'application/x-gzip',
      'content-length': String(slice.length),
      'accept-ranges': 'bytes',
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${body.length}` } : {}),
    });
    const cut = cuts.get(name);
    if (cut !== undefined) {
      if (--cut.times <= 0) cuts.delete(name);
      response.write(slice.subarray(0, cut.bytes), () => setImmediate(() => request.socket.destroy()));
      return;
    }
    response.end(slice);
  };

  const server = createServer(answer);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/pubmed/`,
    requests,
    put(collection, name, content, options = {}) {
      const directory = files[DIRECTORY[collection]]!;
      directory.set(name, content);
      const md5 = options.md5 === undefined ? createHash('md5').update(content).digest('hex') : options.md5;
      if (md5 === null) directory.delete(`${name}.md5`);
      else directory.set(`${name}.md5`, Buffer.from(`MD5(${name})= ${md5}\n`));
    },
    setListing(collection, html) {
      if (html === undefined) listings.delete(DIRECTORY[collection]);
      else listings.set(DIRECTORY[collection], html);
    },
    cutAfter(name, bytes, times = 1) {
      cuts.set(name, { bytes, times });
    },
    failNext(name, status, times = 1) {
      failures.set(name, { status, times });
    },
    stallNext(name) {
      stalls.add(name);
    },
    ignoreRanges(ignore) {
      rangesIgnored = ignore;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An index page as NCBI's Apache server writes one: a parent link, then one line per file. */
function indexPage(directory: string, files: Map<string, Buffer>): string {
  const lines = [...files.keys()].sort().map((name) => {
    const padding = ' '.repeat(Math.max(1, 30 - name.length));
    return `<a href="${name}">${name}</a>${padding}2024-11-12 14:04  ${humanSize(files.get(name)!.length)}  `;
  });
  return [
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">',
    '<html>',
    ' <head>',
    `  <title>Index of /pubmed/${directory}</title>`,
    ' </head>',
    ' <body>',
    `<h1>Index of /pubmed/${directory}</h1>`,
    '<pre>Name                          Last modified      Size  <hr><a href="/pubmed/">Parent Directory</a>                                   -   ',
    '<a href="README.txt">README.txt</a>                    2024-11-12 14:05  4.0K  ',
    ...lines,
    '<hr></pre>',
    '</body></html>',
    '',
  ].join('\n');
}

function humanSize(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)}K`;
  return `${Math.round(bytes / 1024 / 1024)}M`;
}
