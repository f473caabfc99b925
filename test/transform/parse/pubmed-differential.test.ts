/**
 * The PubMed parser against the fast-xml-parser reading it replaced (reference-pubmed-parser.ts):
 * every record in the fixtures, the 2016 bulk file's MedlineCitations among them, must come out
 * the same, field for field, and so must hand-made records that stress mixed content, entities,
 * CDATA, comments and line ends.
 */
import { describe, expect, it } from 'vitest';
import { XmlParseError } from '../../../src/errors.js';
import { parsePubmedRecord, parsePubmedSet } from '../../../src/transform/parse/pubmed-parser.js';
import { fixtureText, pubmedDocuments, recordChunks } from '../pubmed-fixtures.js';
import * as reference from './reference-pubmed-parser.js';

const documents = pubmedDocuments();
const SEED = fixtureText('seed/efetch-pubmed-31810187.xml');
const [SEED_ARTICLE] = recordChunks(SEED);

/** What a parse gives: its value, or the kind of error it throws. */
function outcome<T>(parse: () => T): T | { threw: string } {
  try {
    return parse();
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
}

function sameRecord(xml: string, name: string): void {
  expect(outcome(() => parsePubmedRecord(xml, name)), name).toStrictEqual(outcome(() => reference.parsePubmedRecord(xml, name)));
}

describe('the PubMed parser reads what the fast-xml-parser reading read', () => {
  it.each(documents.map((document) => [document.name, document.xml] as const))('%s, as a set', (name, xml) => {
    expect(outcome(() => parsePubmedSet(xml, name))).toStrictEqual(outcome(() => reference.parsePubmedSet(xml, name)));
  });

  it('every PubmedArticle and PubmedBookArticle in the fixtures, one by one', () => {
    const chunks = documents.flatMap((document) => recordChunks(document.xml)).filter((chunk) => chunk.kind !== 'citation');
    expect(chunks.length).toBeGreaterThan(70);
    for (const chunk of chunks) sameRecord(chunk.xml, `${chunk.kind} ${chunk.pmid}`);
  });

  it('every MedlineCitation of the 2016 bulk file, one by one, wrapped as the bulk import hands it on', () => {
    const bulk = documents.find((document) => document.name.endsWith('medline16n0902.xml.gz'));
    const citations = recordChunks(bulk?.xml ?? '').filter((chunk) => chunk.kind === 'citation');
    expect(citations).toHaveLength(604);
    for (const chunk of citations) sameRecord(`<PubmedArticle>${chunk.xml}</PubmedArticle>`, `citation ${chunk.pmid}`);
  });

  const seed = SEED_ARTICLE?.xml ?? '';
  const variants: [string, string][] = [
    ['inline markup in the title', seed.replace(/<ArticleTitle>([^<]*?) /, '<ArticleTitle><i>$1</i> <b>x</b><u>y</u> H<sub>2</sub>O<sup>+</sup> ')],
    ['MathML in the abstract', seed.replace(/(<AbstractText[^>]*>)/, '$1<mml:math><mml:mi>V</mml:mi>\n  <mml:mi>O</mml:mi><mml:msub><mml:mi>x</mml:mi><mml:mn>2</mml:mn></mml:msub></mml:math> ')],
    ['entities everywhere', seed.replace('<LastName>', '<LastName>&amp;&#x00E9;&#233;&lt;&gt;&quot;&apos;&unknown;').replace('<ISSN IssnType="', '<ISSN IssnType="&amp;')],
    ['forbidden character references', seed.replace('<ForeName>', '<ForeName>&#0;&#xD800;&#x110000;')],
    ['CDATA, comments and processing instructions in text', seed.replace('<Volume>', '<Volume> a <!-- c --> b <?pi x?> c <![CDATA[ <d> &amp; ]]> e ')],
    ['CR LF line ends', seed.replace(/\n/g, '\r\n').replace(/(<AbstractText[^>]*>)/, '$1line\ronly\r\n')],
    ['tabs and spaces in tags and values', seed.replace('<ArticleId IdType="doi">', '<ArticleId\tIdType = "\tdoi\t" >  ').replace('<Language>', '<Language> \t')],
    ['self-closing and empty elements', seed.replace(/<Volume>[^<]*<\/Volume>/, '<Volume/>').replace(/<Issue>[^<]*<\/Issue>/, '<Issue></Issue>')],
    ['a cut element inside text', seed.replace('<Title>', '<Title>Pre <CoiStatement>no <i>x</i></CoiStatement> post ')],
    ['child elements inside a read text element', seed.replace('<Title>', '<Title>Journal <i>of</i> Things ')],
    ['single-quoted and repeated attributes', seed.replace('<ArticleId IdType="doi">', "<ArticleId IdType='pii' IdType='doi'>")],
    ['nested same-name stop elements', seed.replace(/(<AbstractText[^>]*>)/, '$1<AbstractText>inner</AbstractText> ')],
    ['non-breaking and thin spaces around values', seed.replace('<LastName>', '<LastName>\u00a0\u2009').replace('</ForeName>', '\u00a0</ForeName>')],
  ];
  it.each(variants)('%s', (name, xml) => {
    expect(xml, name).not.toBe(seed);
    sameRecord(xml, name);
  });

  it('reads what the reference reads from records with markup, references, spaces and stray characters put anywhere', () => {
    const pieces = ['<i>x</i>', '<sup>2</sup>', ' ', '\t', '\r\n', '&amp;', '&#x3b1;', '&#0;', '<!-- c -->', '<![CDATA[a<b]]>', '<?pi x?>', '<b/>', '\u00a0', '&lt;', '<mml:math><mml:mi>x</mml:mi> <mml:mo>+</mml:mo></mml:math>', '"', "'", '>', '<', '\u2009'];
    // A cut element only where an element can stand: inside an attribute value or a comment the
    // reference cut it out as text, where the XML holds it as characters (see xml-tree.ts).
    const cutElement = '<AffiliationInfo><Affiliation>x</Affiliation></AffiliationInfo>';
    const chunks = documents.flatMap((document) => recordChunks(document.xml)).filter((chunk) => chunk.kind !== 'citation');
    let state = 42;
    const random = (n: number): number => {
      state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
      return state % n;
    };
    for (let round = 0; round < 3_000; round += 1) {
      let xml = chunks[random(chunks.length)]!.xml;
      for (let edits = 1 + random(4); edits > 0; edits -= 1) {
        // Half the edits land in text, half anywhere (inside tags and attribute values too).
        const inText = round % 2 === 0;
        const at = inText ? xml.indexOf('>', random(xml.length)) + 1 : random(xml.length);
        const piece = inText && random(8) === 0 ? cutElement : pieces[random(pieces.length)]!;
        xml = xml.slice(0, at) + piece + xml.slice(at);
      }
      sameRecord(xml, `mutation ${round}`);
    }
  });

  it('refuses what the reference refuses', () => {
    const broken = [
      seed.slice(0, seed.length / 2),
      seed.replace('</Volume>', '</Issue>'),
      `text ${seed}`,
      seed.replace('<Title>', '<Title><CoiStatement>never closed'),
      seed.replace('</ArticleTitle>', '</ArticleTitle></i>'),
      seed.replace(/<\/PubmedArticle>\s*$/, ''),
      `${seed}<PubmedArticle/>`,
    ];
    for (const xml of broken) {
      expect(xml).not.toBe(seed);
      expect(() => reference.parsePubmedRecord(xml)).toThrow(XmlParseError);
      expect(() => parsePubmedRecord(xml)).toThrow(XmlParseError);
    }
  });
});
