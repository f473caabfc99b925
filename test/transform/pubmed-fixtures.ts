/**
 * Every real PubMed efetch body in test/fixtures: plain .xml files, the bodies inside the VCR
 * cassettes, and the gzipped bulk files. Shared by the parser and transform tests and the bench.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';

/** test/fixtures of the project this file belongs to, whether run from test/ or compiled to dist/. */
function findFixtures(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'test', 'fixtures');
    if (existsSync(join(candidate, 'ncbi'))) return candidate;
  }
  throw new Error('test/fixtures not found above ' + import.meta.url);
}

export const FIXTURES = findFixtures();

export interface FixtureDocument {
  /** Path under test/fixtures (with `#n` for the n-th response of a cassette). */
  name: string;
  xml: string;
}

const isPubmed = (xml: string): boolean => /<(PubmedArticleSet|MedlineCitationSet|PubmedArticle)[\s>]/.test(xml);

interface Cassette {
  interactions: { response: { body: { string: string } } }[];
}

function documentsOf(relative: string): FixtureDocument[] {
  const path = join(FIXTURES, relative);
  if (relative.endsWith('.gz')) return [{ name: relative, xml: gunzipSync(readFileSync(path)).toString('utf8') }];
  const text = readFileSync(path, 'utf8');
  if (!text.startsWith('interactions:')) return [{ name: relative, xml: text }];
  const cassette = parseYaml(text) as Cassette;
  return cassette.interactions.map((interaction, i) => ({
    name: `${relative}#${i}`,
    xml: interaction.response.body.string,
  }));
}

/** All PubMed efetch/bulk documents in the fixtures, in a stable order. */
export function pubmedDocuments(): FixtureDocument[] {
  const directory = join(FIXTURES, 'ncbi');
  const files = readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((file) => !file.endsWith('.md') && !file.endsWith('.nxml') && file.includes('/'))
    .sort();
  return [
    ...files.flatMap((file) => documentsOf(join('ncbi', file))),
    ...documentsOf('seed/efetch-pubmed-31810187.xml'),
  ].filter((document) => isPubmed(document.xml));
}

export interface RecordChunk {
  kind: 'article' | 'book' | 'citation';
  pmid: number;
  xml: string;
}

const RECORD = /<(PubmedArticle|PubmedBookArticle|MedlineCitation)[\s>][\s\S]*?<\/\1>/g;
const KIND = { PubmedArticle: 'article', PubmedBookArticle: 'book', MedlineCitation: 'citation' } as const;

/** Each record element of a document cut out as text, as the extract stage hands records on. */
export function recordChunks(xml: string): RecordChunk[] {
  return [...xml.matchAll(RECORD)].map((match) => ({
    kind: KIND[match[1] as keyof typeof KIND],
    pmid: Number(/<PMID[^>]*>(\d+)<\/PMID>/.exec(match[0])?.[1]),
    xml: match[0],
  }));
}

export function fixtureText(relative: string): string {
  return readFileSync(join(FIXTURES, relative), 'utf8');
}
