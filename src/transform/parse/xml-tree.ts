/**
 * A lean element tree over an XML string, for the PubMed hot path: one pass that checks the
 * document is well formed (xml-check.ts's rules and messages) and records, for each element, only
 * where its name, attributes and content lie. Text and attributes are cut out of the string when
 * they are read, so an element the record never reads costs one small object and no strings.
 *
 * What it reads is what the fast-xml-parser set-up of xml-document.ts gives, value for value:
 * - elements named in `cut` are skipped whole, as cutElements() removes them;
 * - elements named in `stop` keep their raw inner XML, and their insides become no elements;
 * - the text of any other element is its direct text runs, each trimmed, joined (comments join
 *   runs, processing instructions part them, CDATA is kept as is), CR LF read as LF;
 * - attribute values are trimmed; character references stay for xml-text.ts to decode.
 * One difference, by design: cutElements() cut by text, so it also removed a cut element's tags
 * written inside an attribute value or a comment; here those are the characters they are.
 */
import { XmlParseError } from '../../errors.js';
import { describePosition } from './xml-check.js';
import { cutElements, elementEnd } from './xml-document.js';

export interface XmlElement {
  readonly name: string;
  /** Offsets in the document: the start tag's `<`, its attributes, the content, past the end tag. */
  readonly tagStart: number;
  readonly attributesStart: number;
  attributesEnd: number;
  readonly start: number;
  end: number;
  after: number;
  /** Child elements in document order; never set for a stop element. */
  children: XmlElement[] | undefined;
  /** True when the content holds anything but text (children, comments, CDATA, cut elements). */
  markup: boolean;
  readonly stop: boolean;
  /** A stop element with a cut element inside: its raw XML is read without it. */
  cutInside: boolean;
}

export interface XmlTreeShape {
  /** Mixed-content elements, kept as raw inner XML (fast-xml-parser's stop nodes). */
  stop: ReadonlySet<string>;
  /** Elements never read, skipped with their content (cutElements()). */
  cut: ReadonlySet<string>;
}

function fail(source: string, xml: string, offset: number, problem: string): never {
  throw new XmlParseError(`${source}: ${problem} at ${describePosition(xml, offset)}`, { input: source });
}

function endOf(xml: string, from: number, terminator: string, what: string, source: string): number {
  const at = xml.indexOf(terminator, from);
  if (at === -1) fail(source, xml, from, `unterminated ${what}`);
  return at + terminator.length;
}

/** The `>` closing a start tag, skipping any `>` inside quoted attribute values. */
function startTagEnd(xml: string, from: number, source: string): number {
  for (let i = from; i < xml.length; i += 1) {
    const code = xml.charCodeAt(i);
    if (code === 62) return i;
    if (code === 34 || code === 39) {
      i = xml.indexOf(code === 34 ? '"' : "'", i + 1);
      if (i === -1) break;
    }
  }
  return fail(source, xml, from, 'unterminated start tag');
}

/** Index of the first whitespace, `/` or `>` from `from`: where a tag name ends. */
function nameEnd(xml: string, from: number): number {
  for (let i = from; i < xml.length; i += 1) {
    const code = xml.charCodeAt(i);
    if (code === 62 || code === 47 || code === 32 || code === 10 || code === 9 || code === 13 || code === 12 || code === 11) return i;
    if (code > 127 && /\s/.test(xml[i] as string)) return i;
  }
  return xml.length;
}

function isBlank(xml: string, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) {
    const code = xml.charCodeAt(i);
    if (code !== 32 && code !== 10 && code !== 9 && code !== 13) return false;
  }
  return true;
}

/**
 * The document's root element, every element below it built but for those inside stop and cut
 * elements. Throws XmlParseError for anything xml-check.ts refuses and for a cut element left open.
 */
export function parseTree(xml: string, shape: XmlTreeShape, source: string): XmlElement {
  const open: string[] = [];
  const nodes: (XmlElement | undefined)[] = [];
  let root: XmlElement | undefined;
  /** Depth of the open stop element (0: none), below which no element is built. */
  let stopDepth = 0;
  let stopElement: XmlElement | undefined;
  let pos = 0;
  for (;;) {
    const lt = xml.indexOf('<', pos);
    if (open.length === 0 && !isBlank(xml, pos, lt === -1 ? xml.length : lt)) {
      fail(source, xml, pos, 'text outside the root element');
    }
    if (lt === -1) break;
    const next = xml.charCodeAt(lt + 1);
    const parent = nodes[nodes.length - 1];
    if (next === 63) {
      pos = endOf(xml, lt + 2, '?>', 'processing instruction', source);
      if (parent !== undefined) parent.markup = true;
      continue;
    }
    if (next === 33) {
      if (xml.startsWith('<!--', lt)) {
        pos = endOf(xml, lt + 4, '-->', 'comment', source);
        if (parent !== undefined) parent.markup = true;
        continue;
      }
      if (xml.startsWith('<![CDATA[', lt)) {
        if (open.length === 0) fail(source, xml, lt, 'CDATA outside the root element');
        pos = endOf(xml, lt + 9, ']]>', 'CDATA section', source);
        if (parent !== undefined) parent.markup = true;
        continue;
      }
      if (xml.startsWith('<!DOCTYPE', lt)) {
        const close = xml.indexOf('>', lt);
        const subset = xml.indexOf('[', lt);
        pos =
          subset !== -1 && (close === -1 || subset < close)
            ? endOf(xml, endOf(xml, subset, ']', 'DOCTYPE', source), '>', 'DOCTYPE', source)
            : endOf(xml, lt, '>', 'DOCTYPE', source);
        continue;
      }
    }
    if (next === 47) {
      const name = xml.slice(lt + 2, nameEnd(xml, lt + 2));
      const expected = open.pop();
      if (expected === undefined) fail(source, xml, lt, `closing tag </${name}> with nothing open`);
      if (expected !== name) fail(source, xml, lt, `</${name}> where </${expected}> was expected`);
      pos = endOf(xml, lt, '>', 'closing tag', source);
      const node = nodes.pop();
      if (node !== undefined) {
        node.end = lt;
        node.after = pos;
      }
      if (open.length < stopDepth) {
        stopDepth = 0;
        stopElement = undefined;
      }
      continue;
    }
    const end = nameEnd(xml, lt + 1);
    const name = xml.slice(lt + 1, end);
    if (name === '') fail(source, xml, lt, 'a "<" that starts no tag');
    if (shape.cut.has(name)) {
      pos = elementEnd(xml, lt, name, source);
      if (parent !== undefined) parent.markup = true;
      if (stopElement !== undefined) stopElement.cutInside = true;
      continue;
    }
    if (open.length === 0 && root !== undefined) fail(source, xml, lt, `second root element <${name}>`);
    const gt = startTagEnd(xml, end, source);
    const empty = xml.charCodeAt(gt - 1) === 47;
    pos = gt + 1;
    if (stopDepth === 0) {
      const stop = shape.stop.has(name) && open.length > 0;
      const node: XmlElement = {
        name,
        tagStart: lt,
        attributesStart: end,
        attributesEnd: empty ? gt - 1 : gt,
        start: pos,
        end: pos,
        after: pos,
        children: undefined,
        markup: false,
        stop,
        cutInside: false,
      };
      if (parent === undefined) root = node;
      else {
        (parent.children ??= []).push(node);
        parent.markup = true;
      }
      if (!empty) {
        open.push(name);
        nodes.push(node);
        if (stop) {
          stopDepth = open.length;
          stopElement = node;
        }
      }
    } else if (!empty) {
      open.push(name);
      nodes.push(undefined);
    }
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) fail(source, xml, xml.length, `document ends inside <${unclosed}> (truncated?)`);
  if (root === undefined) return fail(source, xml, 0, 'no root element');
  return root;
}

/** fast-xml-parser reads CR LF and a lone CR as LF. */
function lineFeeds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/**
 * The element's raw text as fast-xml-parser gives it (character references not decoded): the
 * inner XML of a stop element; else the direct text runs, each trimmed, joined.
 */
export function rawText(xml: string, element: XmlElement, shape: XmlTreeShape): string {
  if (element.stop) {
    const inner = xml.slice(element.start, element.end);
    return lineFeeds(element.cutInside ? cutElements(inner, [...shape.cut], 'document') : inner);
  }
  if (!element.markup) return lineFeeds(xml.slice(element.start, element.end)).trim();
  let text = '';
  let run = '';
  const flush = (): void => {
    const trimmed = lineFeeds(run).trim();
    if (trimmed !== '') text += trimmed;
    run = '';
  };
  const children = element.children ?? [];
  let childIndex = 0;
  let pos = element.start;
  while (pos < element.end) {
    const lt = xml.indexOf('<', pos);
    if (lt === -1 || lt >= element.end) {
      run += xml.slice(pos, element.end);
      break;
    }
    run += xml.slice(pos, lt);
    const child = children[childIndex];
    if (child !== undefined && child.tagStart === lt) {
      flush();
      pos = child.after;
      childIndex += 1;
    } else if (xml.startsWith('<!--', lt)) {
      pos = xml.indexOf('-->', lt + 4) + 3;
    } else if (xml.startsWith('<?', lt)) {
      flush();
      pos = xml.indexOf('?>', lt + 2) + 2;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      flush();
      const close = xml.indexOf(']]>', lt + 9);
      text += lineFeeds(xml.slice(lt + 9, close));
      pos = close + 3;
    } else {
      // Only a cut element can be left here: the document was checked whole.
      const name = xml.slice(lt + 1, nameEnd(xml, lt + 1));
      pos = elementEnd(xml, lt, name, 'document');
    }
  }
  flush();
  return text;
}

const ATTRIBUTE = /([^\s=]+)\s*(=\s*(?:"([^"]*)"|'([^']*)'))?/g;

/** An attribute's raw value, trimmed (the last one, should the name repeat). */
export function rawAttribute(xml: string, element: XmlElement, name: string): string | undefined {
  if (element.attributesEnd <= element.attributesStart) return undefined;
  const text = xml.slice(element.attributesStart, element.attributesEnd);
  if (!text.includes(name)) return undefined;
  let value: string | undefined;
  ATTRIBUTE.lastIndex = 0;
  for (let match = ATTRIBUTE.exec(text); match !== null; match = ATTRIBUTE.exec(text)) {
    const found = match[3] ?? match[4];
    if (match[1] === name && found !== undefined) value = found;
  }
  return value === undefined ? undefined : lineFeeds(value).trim();
}
