/**
 * `import --remote`: the files of a collection that are not imported yet, downloaded one after
 * another in the order they apply and handed to the import as each arrives. The next file
 * downloads while the one before it is imported, so the network and the database work at the
 * same time, yet no more than two files sit on disk. A file is removed once imported (unless the
 * downloads are kept); a file its import refused stays, for a look at what is wrong with it.
 *
 * Told to stop (`signal`), no further file is imported; a download under way ends, leaving its
 * part to resume from, and a downloaded file not yet imported stays for the next run.
 */
import { rm } from 'node:fs/promises';
import { redactUrl } from '../config.js';
import type { Logger } from '../logger.js';
import type { BulkFilesClient, DownloadedFile } from './bulk-files-client.js';
import type { BulkCollection, BulkFileEntry } from './bulk-files-listing.js';

export interface RemoteImportOptions {
  client: BulkFilesClient;
  collection: BulkCollection;
  /** Where files are downloaded to (PUBCAT_DATA_DIR/downloads). */
  directory: string;
  /** Of `names`, those imported already: they are not downloaded. */
  imported(names: string[]): Promise<Set<string>>;
  /** Imports one downloaded file; false when the import refused it (the file is then kept). */
  importFile(file: DownloadedFile): Promise<boolean>;
  keepDownloads: boolean;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface RemoteImportResult {
  /** Data files the listing holds. */
  listed: number;
  /** Listed, but imported already. */
  skipped: number;
  /** Listed without their .md5, which NCBI posts with the file: left for a later run. */
  unverifiable: string[];
  /** Downloaded and handed to the import. */
  handed: number;
  /** True when the run was told to stop before it went through every file. */
  stopped: boolean;
}

export async function importRemoteFiles(options: RemoteImportOptions): Promise<RemoteImportResult> {
  const { client, collection, signal, logger } = options;
  const listed = await client.listing(collection, signal);
  // An empty directory is possible (updates just after a new baseline); a page that is no listing looks the same.
  if (listed.length === 0) logger?.warn({ url: redactUrl(client.urlOf(collection)) }, `the ${collection} listing names no pubmedYYnNNNN.xml.gz file`);
  const unverifiable = listed.filter((entry) => !entry.md5Listed).map((entry) => entry.name);
  if (unverifiable.length > 0) logger?.warn({ files: unverifiable }, `left ${unverifiable.length} listed file(s) without their .md5 for a later run`);
  const candidates = listed.filter((entry) => entry.md5Listed);
  const done = await options.imported(candidates.map((entry) => entry.name));
  const wanted = candidates.filter((entry) => !done.has(entry.name));
  logger?.info({ collection, listed: listed.length, imported: done.size, toImport: wanted.length }, `${wanted.length} ${collection} file(s) to download and import`);
  const result: RemoteImportResult = { listed: listed.length, skipped: done.size, unverifiable, handed: 0, stopped: false };

  // Ends a download still under way when the loop ends early (stopped, or an import failed).
  const downloads = new AbortController();
  const downloadSignal = signal === undefined ? downloads.signal : AbortSignal.any([signal, downloads.signal]);
  const fetch = (entry: BulkFileEntry): Promise<DownloadedFile> => {
    const download = client.download(collection, entry, options.directory, downloadSignal);
    download.catch(() => undefined);
    return download;
  };

  let next = wanted.length > 0 ? fetch(wanted[0]!) : undefined;
  try {
    for (let index = 0; index < wanted.length; index += 1) {
      let file: DownloadedFile;
      try {
        file = await next!;
      } catch (error) {
        if (signal?.aborted === true) break;
        throw error;
      }
      if (signal?.aborted === true) break;
      next = index + 1 < wanted.length ? fetch(wanted[index + 1]!) : undefined;
      const accepted = await options.importFile(file);
      result.handed += 1;
      if (accepted && !options.keepDownloads) await Promise.all([rm(file.path, { force: true }), rm(file.md5Path, { force: true })]);
    }
  } finally {
    downloads.abort();
    await next?.catch(() => undefined);
  }
  result.stopped = signal?.aborted === true && result.handed < wanted.length;
  return result;
}
