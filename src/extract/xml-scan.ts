/**
 * A cheap scanner for NCBI result sets: it finds the root element and walks its direct children
 * without parsing their insides. That is enough to prove a response complete (every child closes,
 * the root closes, nothing follows) and to cut it into per-record strings with their exact bytes,
 * at the cost of a few `indexOf` calls per record — no objects are built for the XML itself.
 *
 * It relies on what NCBI's result sets guarantee: a record element never contains an element of
 * its own name (`<PubmedArticle>`, `<article>`, `<DocumentSummary>` do not nest), and attribute
 * values contain no `>`. Full well-formedness is the parsers' job later.
 */
import { XmlParseError } from '../errors.js';

/** One direct child of the scanned element, as offsets into the document. */
export interface ChildElement {
  name: string;
  /** Offset of `<name`. */
  start: number;
  /** Offset just after the closing `>` of the element. */
  end: number;
  /** Offset just after the start tag (equals `end` for `<name/>`). */
  contentStart: number;
  /** Offset of `</name>` (equals `end` for `<name/>`). */
  contentEnd: number;
}

/** The root element's content range, after checking the document ends right after the root. */
export function openRoot(xml: string, rootNames: readonly string[], documentName: string): { name: string; contentStart: number; contentEnd: number } {
  const position = skipMisc(xml, 0, xml.length, documentName);
  const name = readStartTagName(xml, position);
  if (!rootNames.includes(name)) {
    throw new XmlParseError(`${documentName}: expected root <${rootNames.join('> or <')}>, found ${describeAt(xml, position)}`, {
      input: documentName,
    });
  }
  const tagEnd = xml.indexOf('>', position);
  if (tagEnd < 0) throw truncated(documentName, `<${name}>`);
  if (xml[tagEnd - 1] === '/') {
    assertNothingAfter(xml, tagEnd + 1, documentName);
    return { name, contentStart: tagEnd + 1, contentEnd: tagEnd + 1 };
  }
  const closeTag = `</${name}>`;
  const closeAt = xml.lastIndexOf(closeTag);
  if (closeAt < tagEnd) throw truncated(documentName, `<${name}> (root element never closes)`);
  assertNothingAfter(xml, closeAt + closeTag.length, documentName);
  return { name, contentStart: tagEnd + 1, contentEnd: closeAt };
}

/**
 * Calls `visit` for each direct child element in [from, to), in order. Whitespace, comments and
 * processing instructions between children are skipped; text or an unclosed child is an error.
 */
export function forEachChild(xml: string, from: number, to: number, documentName: string, visit: (child: ChildElement) => void): void {
  let position = skipMisc(xml, from, to, documentName);
  while (position < to) {
    const name = readStartTagName(xml, position);
    if (name === '') {
      throw new XmlParseError(`${documentName}: expected an element, found ${describeAt(xml, position)}`, { input: documentName });
    }
    const tagEnd = xml.indexOf('>', position);
    if (tagEnd < 0 || tagEnd >= to) throw truncated(documentName, `<${name}>`);
    if (xml[tagEnd - 1] === '/') {
      visit({ name, start: position, end: tagEnd + 1, contentStart: tagEnd + 1, contentEnd: tagEnd + 1 });
      position = skipMisc(xml, tagEnd + 1, to, documentName);
      continue;
    }
    const closeTag = `</${name}>`;
    const closeAt = xml.indexOf(closeTag, tagEnd + 1);
    if (closeAt < 0 || closeAt + closeTag.length > to) throw truncated(documentName, `<${name}> at offset ${position}`);
    const end = closeAt + closeTag.length;
    visit({ name, start: position, end, contentStart: tagEnd + 1, contentEnd: closeAt });
    position = skipMisc(xml, end, to, documentName);
  }
}

/** The text of the first `<name …>text</name>` in [from, to), or undefined. */
export function firstElementText(xml: string, name: string, from: number, to: number): string | undefined {
  const range = firstElementRange(xml, name, from, to);
  return range === undefined ? undefined : xml.slice(range.contentStart, range.contentEnd);
}

/**
 * Content offsets of the first `<name>` or `<name attr…>` element in [from, to). The search itself
 * runs on to the end of `xml` when there is none, so use it on one record, not a whole response.
 */
export function firstElementRange(xml: string, name: string, from: number, to: number): { contentStart: number; contentEnd: number } | undefined {
  let at = xml.indexOf(`<${name}`, from);
  while (at >= 0 && at < to) {
    const next = xml.charCodeAt(at + name.length + 1);
    if (next === 62 /* > */ || isSpace(next)) {
      const contentStart = xml.indexOf('>', at) + 1;
      const contentEnd = xml.indexOf(`</${name}>`, contentStart);
      if (contentEnd < 0 || contentEnd > to) return undefined;
      return { contentStart, contentEnd };
    }
    at = xml.indexOf(`<${name}`, at + 1);
  }
  return undefined;
}

/** Skips whitespace, the XML declaration, DOCTYPE, comments and processing instructions. */
function skipMisc(xml: string, from: number, to: number, documentName: string): number {
  let position = from;
  for (;;) {
    while (position < to && isSpace(xml.charCodeAt(position))) position += 1;
    if (position >= to) return to;
    if (xml.startsWith('<!--', position)) position = skipPast(xml, position, '-->', to, documentName);
    else if (xml.startsWith('<?', position)) position = skipPast(xml, position, '?>', to, documentName);
    else if (xml.startsWith('<!DOCTYPE', position)) {
      const subset = xml.indexOf('[', position);
      const close = xml.indexOf('>', position);
      const hasSubset = subset >= 0 && close >= 0 && subset < close;
      position = skipPast(xml, position, hasSubset ? ']>' : '>', to, documentName);
    } else return position;
  }
}

function skipPast(xml: string, position: number, terminator: string, to: number, documentName: string): number {
  const at = xml.indexOf(terminator, position);
  if (at < 0 || at + terminator.length > to) throw truncated(documentName, describeAt(xml, position));
  return at + terminator.length;
}

function readStartTagName(xml: string, position: number): string {
  if (xml.charCodeAt(position) !== 60 /* < */) return '';
  let end = position + 1;
  while (end < xml.length) {
    const code = xml.charCodeAt(end);
    if (code === 62 /* > */ || code === 47 /* / */ || isSpace(code)) break;
    end += 1;
  }
  return xml.slice(position + 1, end);
}

function assertNothingAfter(xml: string, position: number, documentName: string): void {
  for (let i = position; i < xml.length; i += 1) {
    if (!isSpace(xml.charCodeAt(i))) {
      throw new XmlParseError(`${documentName}: unexpected content after the root element: ${describeAt(xml, i)}`, { input: documentName });
    }
  }
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function describeAt(xml: string, position: number): string {
  return position >= xml.length ? 'end of document' : JSON.stringify(xml.slice(position, position + 40));
}

function truncated(documentName: string, what: string): XmlParseError {
  return new XmlParseError(`${documentName}: truncated or malformed XML: ${what} is not closed`, { input: documentName });
}
