/**
 * NCBI's bulk files on local disk: which files a path names, their place in NCBI's order, the
 * check of a file before anything of it is loaded (md5 against its `.md5` sidecar; without one,
 * gzip read to its end), and the file's items as a stream (read → gunzip → record-stream.ts), so
 * memory stays flat whatever the file's size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline, Transform, Writable, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ImportFileError, InputError, XmlParseError } from '../errors.js';
import { bulkItems, type BulkItem } from './record-stream.js';

/** Where a file stands in NCBI's order: by yearly series, then by the number in its name. */
export interface FileOrder {
  /** The name before the file number: `pubmed25`, `medline16`. */
  series: string;
  /** The number in the name: pubmed25n0001 is 1. */
  sequence: number;
  /** Series year × 100000 + sequence: a larger one is a later file. */
  order: number;
}

const IMPORTABLE = /\.xml(\.gz)?$/i;
const NCBI_NAME = /^([a-z]+?)(\d{2})n(\d{1,5})\.xml(?:\.gz)?$/i;
const LAST_NUMBER = /^(.*?)(\d{1,5})(?!.*\d)/;
const READ_CHUNK = 1 << 20;

export function isImportable(name: string): boolean {
  return IMPORTABLE.test(name);
}

/**
 * NCBI's names (`pubmed25n0001.xml.gz`, `medline16n0902.xml.gz`) give series year and number;
 * another name's last number is its sequence in a series of year 0. No number: no place.
 */
export function fileOrder(name: string): FileOrder | undefined {
  const ncbi = NCBI_NAME.exec(name);
  if (ncbi !== null) {
    const [, prefix, year, number] = ncbi as unknown as [string, string, string, string];
    return { series: `${prefix}${year}`, sequence: Number(number), order: Number(year) * 100_000 + Number(number) };
  }
  const last = LAST_NUMBER.exec(name.replace(IMPORTABLE, ''));
  if (last === null) return undefined;
  const [, prefix, number] = last as unknown as [string, string, string];
  return { series: prefix, sequence: Number(number), order: Number(number) };
}

/**
 * The files the paths name: a file as given, a directory as every `.xml` or `.xml.gz` file in
 * it. Sorted by their place in NCBI's order (name for equal places).
 */
export async function listImportPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let facts;
    try {
      facts = await stat(path);
    } catch (error) {
      throw new InputError(`cannot read ${path}: ${(error as Error).message}`, { input: path, cause: error });
    }
    if (facts.isDirectory()) {
      const names = (await readdir(path)).filter(isImportable);
      files.push(...names.map((name) => join(path, name)));
    } else if (isImportable(path)) {
      files.push(path);
    } else {
      throw new InputError(`${path} is not an NCBI bulk file: give .xml or .xml.gz files, or a directory of them`, { input: path });
    }
  }
  const place = (path: string): number => fileOrder(basename(path))?.order ?? Number.MAX_SAFE_INTEGER;
  return [...new Set(files)].sort((a, b) => place(a) - place(b) || basename(a).localeCompare(basename(b)));
}

/** The md5 NCBI publishes beside a file (`FILE.md5`: `MD5(FILE)= hex`, or md5sum's `hex  FILE`), if there is one. */
export async function sidecarMd5(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(`${path}.md5`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ImportFileError(`${basename(path)}: cannot read its md5 file: ${(error as Error).message}`, { input: path, cause: error });
  }
  const hex = /(?:^|=\s*)([0-9a-f]{32})\b/im.exec(text)?.[1];
  if (hex === undefined) throw new ImportFileError(`${basename(path)}: its md5 file holds no md5: ${JSON.stringify(text.slice(0, 80))}`, { input: path });
  return hex.toLowerCase();
}

export interface CheckedFile {
  size: number;
  md5: string;
}

/**
 * Reads the whole file once before any of it is loaded, so a damaged download is refused whole
 * rather than half loaded: its md5 must equal the sidecar's, which proves the file is the one
 * NCBI published, whole. Only a gzip file without a sidecar is decompressed here, to its end:
 * nothing else vouches for it. Decompressing is most of the cost of a read (the import's own
 * read decompresses again), and hashing the compressed bytes alone is a fraction of it.
 */
export async function checkFile(path: string): Promise<CheckedFile> {
  const name = basename(path);
  const expected = await sidecarMd5(path);
  const hash = createHash('md5');
  let size = 0;
  const source = createReadStream(path, { highWaterMark: READ_CHUNK });
  const hashed = counting((chunk) => {
    hash.update(chunk);
    size += chunk.length;
  });
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  try {
    await (isGzip(path) && expected === undefined ? pipelineAsync(source, hashed, createGunzip(), sink) : pipelineAsync(source, hashed, sink));
  } catch (error) {
    throw fileError(name, error);
  }
  const md5 = hash.digest('hex');
  if (expected !== undefined && expected !== md5) {
    throw new ImportFileError(`${name}: md5 mismatch: the file's is ${md5}, its .md5 file says ${expected} (damaged or incomplete download)`, { input: path });
  }
  return { size, md5 };
}

/**
 * The file's items in order. `onBytes` hears of each chunk read from disk (for progress). A
 * truncated gzip or XML that does not parse ends the iteration with an ImportFileError naming
 * the file.
 */
export async function* fileItems(path: string, onBytes: (bytes: number) => void = () => undefined): AsyncGenerator<BulkItem> {
  const name = basename(path);
  const source = createReadStream(path, { highWaterMark: READ_CHUNK });
  const counted = counting((chunk) => onBytes(chunk.length));
  // Errors of any stage end the last one, and so the iteration below.
  const text: Readable = isGzip(path)
    ? pipeline(source, counted, createGunzip({ chunkSize: 1 << 16 }), () => undefined)
    : pipeline(source, counted, () => undefined);
  try {
    yield* bulkItems(text as AsyncIterable<Buffer>, name);
  } catch (error) {
    throw fileError(name, error);
  } finally {
    source.destroy();
    text.destroy();
  }
}

/** A pass-through stage that shows each chunk to `see`. */
function counting(see: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      see(chunk);
      callback(null, chunk);
    },
  });
}

function isGzip(path: string): boolean {
  return /\.gz$/i.test(path);
}

function fileError(name: string, error: unknown): ImportFileError {
  if (error instanceof ImportFileError) return error;
  if (error instanceof XmlParseError) return new ImportFileError(`${error.message} (XML that does not parse)`, { input: name, cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message;
  if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || /unexpected end of file|incorrect header check|invalid/i.test(message)) {
    return new ImportFileError(`${name}: not a whole gzip file (${message}): truncated or damaged download`, { input: name, cause: error });
  }
  return new ImportFileError(`${name}: cannot read it: ${message}`, { input: name, cause: error });
}
