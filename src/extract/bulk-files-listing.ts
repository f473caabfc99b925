/**
 * NCBI's bulk file directories as their HTTPS server lists them: an Apache-style HTML index with
 * one link per file (`<a href="pubmed25n0001.xml.gz">pubmed25n0001.xml.gz</a>  2024-11-12 14:04  19M`)
 * and an `.md5` beside each data file. Only the links are read, never the layout around them,
 * and only names of PubMed's own data files count: README, DTDs, stats and the parent-directory
 * link are ignored. Pure functions: the fetching is in bulk-files-client.ts.
 */

/** `baseline` (the yearly complete set) or `updates` (the daily files after it). */
export type BulkCollection = 'baseline' | 'updates';

export const BULK_COLLECTIONS: readonly BulkCollection[] = ['baseline', 'updates'];

/** Each collection's directory under PUBCAT_FILES_BASE_URL. */
export const COLLECTION_DIRECTORY: Readonly<Record<BulkCollection, string>> = Object.freeze({
  baseline: 'baseline/',
  updates: 'updatefiles/',
});

export interface BulkFileEntry {
  /** `pubmed25n0001.xml.gz` */
  name: string;
  /** Two-digit production year: 25 in pubmed25n0001. */
  year: number;
  /** The file's number in its year: the order files must be applied in. */
  sequence: number;
  /** Whether its `.md5` is listed beside it; NCBI posts it with the file. */
  md5Listed: boolean;
}

const DATA_FILE = /^pubmed(\d\d)n(\d{4})\.xml\.gz$/;
const LINK = /<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

/** The data files an index page links to, in the order they apply (year, then sequence), each once. */
export function parseBulkListing(html: string): BulkFileEntry[] {
  const names = new Set<string>();
  for (const match of html.matchAll(LINK)) {
    const name = linkedName(match[1] ?? match[2] ?? match[3] ?? '');
    if (name !== undefined) names.add(name);
  }
  const entries: BulkFileEntry[] = [];
  for (const name of names) {
    const parts = DATA_FILE.exec(name);
    if (parts === null) continue;
    entries.push({ name, year: Number(parts[1]), sequence: Number(parts[2]), md5Listed: names.has(`${name}.md5`) });
  }
  return entries.sort((a, b) => a.year - b.year || a.sequence - b.sequence);
}

/** The last path segment of a link, decoded, without query or fragment; undefined for a directory. */
function linkedName(href: string): string | undefined {
  const path = href.replace(/&amp;/g, '&').split(/[?#]/, 1)[0]!;
  const segment = path.slice(path.lastIndexOf('/') + 1);
  if (segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The checksum an `.md5` file gives, lower case. NCBI writes OpenSSL's form,
 * `MD5(pubmed25n0001.xml.gz)= 0f3c…`; `md5sum`'s `0f3c…  name` and a bare digest are read too.
 * A file naming another data file than `name` is refused, as is one with no digest.
 */
export function parseMd5File(text: string, name: string): string {
  const openssl = /MD5\s*\(([^)]*)\)\s*=\s*([0-9a-f]{32})\b/i.exec(text);
  if (openssl !== null) {
    if (openssl[1]!.trim() !== name) throw new Error(`its .md5 names ${JSON.stringify(openssl[1]!.trim())}, not ${name}`);
    return openssl[2]!.toLowerCase();
  }
  const plain = /^\s*([0-9a-f]{32})(?:\s+\*?(\S+))?\s*$/im.exec(text);
  if (plain === null) throw new Error(`its .md5 holds no MD5 digest (${JSON.stringify(text.trim().slice(0, 80))})`);
  if (plain[2] !== undefined && plain[2] !== name) throw new Error(`its .md5 names ${JSON.stringify(plain[2])}, not ${name}`);
  return plain[1]!.toLowerCase();
}
