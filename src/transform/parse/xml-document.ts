/**
 * The one fast-xml-parser set-up the PMC and esummary parsers share, and typed access to what it
 * returns. The PubMed parser reads the same values through xml-tree.ts, a leaner pass for the hot path.
 *
 * - Entity processing is off: DOCTYPE entities are never expanded (no billion laughs, no
 *   external entities) and character references are decoded by xml-text.ts, on the values read.
 * - Mixed-content elements are "stop nodes": the parser hands over their inner XML untouched
 *   and flattenMixed() turns it into text, so inline markup can neither drop nor reorder words.
 * - Values stay strings (`parseTagValue: false`): "08" is a month, not the number 8.
 * - fast-xml-parser accepts truncated and mis-nested XML, so assertWellFormed() runs first.
 */
import { XMLParser } from 'fast-xml-parser';
import { XmlParseError } from '../../errors.js';
import { assertWellFormed, describePosition } from './xml-check.js';
import { decodeEntities, flattenMixed } from './xml-text.js';

/** An element as fast-xml-parser returns it: child elements by name, attributes as `@name`. */
export type XmlNode = { readonly [key: string]: unknown };

const TEXT = '#text';
const ATTRIBUTE_PREFIX = '@';

export interface ParserShape {
  /** Mixed-content elements, as path patterns (`*.AbstractText`): kept as raw inner XML. */
  stopNodes: readonly string[];
  /** Element names that may repeat: always arrays, so one child and several read alike. */
  repeated: ReadonlySet<string>;
}

export function createXmlParser(shape: ParserShape): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: ATTRIBUTE_PREFIX,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    stopNodes: [...shape.stopNodes],
    // Callbacks get the path matcher itself, not a path string built for every element.
    jPath: false,
    isArray: (name, _path, _isLeaf, isAttribute) => !isAttribute && shape.repeated.has(name),
  });
}

/** Checks and parses one document; every failure is an XmlParseError naming the document. */
export function parseXml(parser: XMLParser, xml: string, documentName: string): XmlNode {
  assertWellFormed(xml, documentName);
  try {
    return parser.parse(xml) as XmlNode;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new XmlParseError(`${documentName}: ${message}`, { input: documentName, cause: error });
  }
}

/**
 * Removes every `<name …>…</name>` element of the given names (nesting of the same name
 * allowed) before parsing: the parts a record never reads, such as a `ReferenceList`, which is a
 * third of a typical efetch response. An element left open is a truncated document.
 */
export function cutElements(xml: string, names: readonly string[], documentName: string): string {
  const opener = new RegExp(`<(${names.join('|')})(?=[\\s/>])`, 'g');
  let kept = '';
  let last = 0;
  for (let match = opener.exec(xml); match !== null; match = opener.exec(xml)) {
    const name = match[1] ?? '';
    const end = elementEnd(xml, match.index, name, documentName);
    kept += xml.slice(last, match.index);
    last = end;
    opener.lastIndex = end;
  }
  return last === 0 ? xml : kept + xml.slice(last);
}

/** Index just past the element opening at `start`. */
export function elementEnd(xml: string, start: number, name: string, documentName: string): number {
  const startTagEnd = xml.indexOf('>', start);
  if (startTagEnd === -1) return unclosed(xml, start, name, documentName);
  if (xml[startTagEnd - 1] === '/') return startTagEnd + 1;
  const openTag = `<${name}`;
  const closeTag = `</${name}>`;
  // Nearly always the first closing tag is the element's own: no other opening of the name lies
  // before it. Looking back from that closing tag reads the element once; the search forward for
  // inner openings below would read on past it, through the rest of the document.
  const firstClose = xml.indexOf(closeTag, startTagEnd + 1);
  if (firstClose === -1) return unclosed(xml, start, name, documentName);
  if (xml.lastIndexOf(openTag, firstClose) === start) return firstClose + closeTag.length;
  let depth = 1;
  let pos = startTagEnd + 1;
  while (depth > 0) {
    const close = xml.indexOf(closeTag, pos);
    if (close === -1) return unclosed(xml, start, name, documentName);
    for (let inner = xml.indexOf(openTag, pos); inner !== -1 && inner < close; ) {
      const after = xml[inner + openTag.length];
      if (after === '>' || after === ' ' || after === '\n' || after === '\t') depth += 1;
      inner = xml.indexOf(openTag, inner + openTag.length);
    }
    depth -= 1;
    pos = close + closeTag.length;
  }
  return pos;
}

function unclosed(xml: string, start: number, name: string, documentName: string): never {
  throw new XmlParseError(
    `${documentName}: <${name}> opened at ${describePosition(xml, start)} is never closed (truncated?)`,
    { input: documentName },
  );
}

/** The child elements called `name`, in document order (none → empty list). */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = node?.[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(asNode);
}

/** The first child element called `name`. */
export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** A text-only or empty element comes back from the parser as a bare string. */
function asNode(value: unknown): XmlNode {
  if (typeof value === 'string') return { [TEXT]: value };
  return (value ?? {}) as XmlNode;
}

/** The decoded text of a text-only element (or of a stop node, flattened). */
export function textOf(node: XmlNode | undefined): string | undefined {
  const raw = node?.[TEXT];
  if (typeof raw === 'string') return flattenMixed(raw);
  return node === undefined ? undefined : '';
}

/** The decoded text of the first child called `name`, when there is one. */
export function childText(node: XmlNode | undefined, name: string): string | undefined {
  return textOf(child(node, name));
}

/** An attribute's decoded value. */
export function attribute(node: XmlNode | undefined, name: string): string | undefined {
  const raw = node?.[ATTRIBUTE_PREFIX + name];
  return typeof raw === 'string' ? decodeEntities(raw) : undefined;
}
