/**
 * Checks fast-xml-parser does not make: it accepts truncated documents and mismatched closing
 * tags without a word, so a cut-off response would otherwise become a short list of records.
 * This scanner only balances tags (no DTD validation) and runs at several times the parser's speed.
 */
import { XmlParseError } from '../../errors.js';

/** "line L, column C" of an offset, for error messages a person can follow into the file. */
export function describePosition(xml: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = xml.indexOf('\n'); i !== -1 && i < offset; i = xml.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return `line ${line}, column ${offset - lineStart + 1} (offset ${offset})`;
}

function fail(documentName: string, xml: string, offset: number, problem: string): never {
  throw new XmlParseError(`${documentName}: ${problem} at ${describePosition(xml, offset)}`, {
    input: documentName,
  });
}

/** Index just past `terminator` searched from `from`, or a parse error naming `what`. */
function endOf(xml: string, from: number, terminator: string, what: string, name: string): number {
  const at = xml.indexOf(terminator, from);
  if (at === -1) fail(name, xml, from, `unterminated ${what}`);
  return at + terminator.length;
}

/** The `>` closing a start tag, skipping any `>` inside quoted attribute values. */
function startTagEnd(xml: string, from: number, name: string): number {
  let quote = '';
  for (let i = from; i < xml.length; i += 1) {
    const ch = xml[i];
    if (quote !== '') {
      if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '>') return i;
  }
  return fail(name, xml, from, 'unterminated start tag');
}

const NAME_END = /[\s/>]/g;

function tagName(xml: string, from: number): string {
  NAME_END.lastIndex = from;
  const end = NAME_END.exec(xml);
  return xml.slice(from, end === null ? xml.length : end.index);
}

/**
 * Throws XmlParseError unless `xml` holds exactly one root element whose every tag is closed in
 * order, with nothing but whitespace, comments and processing instructions around it.
 */
export function assertWellFormed(xml: string, documentName: string): void {
  const open: string[] = [];
  let sawRoot = false;
  let pos = 0;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt === -1 ? xml.length : lt;
    if (open.length === 0 && /[^ \t\r\n]/.test(xml.slice(pos, textEnd))) {
      fail(documentName, xml, pos, 'text outside the root element');
    }
    if (lt === -1) break;
    const next = xml[lt + 1];
    if (next === '?') pos = endOf(xml, lt + 2, '?>', 'processing instruction', documentName);
    else if (xml.startsWith('<!--', lt)) pos = endOf(xml, lt + 4, '-->', 'comment', documentName);
    else if (xml.startsWith('<![CDATA[', lt)) {
      if (open.length === 0) fail(documentName, xml, lt, 'CDATA outside the root element');
      pos = endOf(xml, lt + 9, ']]>', 'CDATA section', documentName);
    } else if (xml.startsWith('<!DOCTYPE', lt)) {
      const close = xml.indexOf('>', lt);
      const subset = xml.indexOf('[', lt);
      pos =
        subset !== -1 && (close === -1 || subset < close)
          ? endOf(xml, endOf(xml, subset, ']', 'DOCTYPE', documentName), '>', 'DOCTYPE', documentName)
          : endOf(xml, lt, '>', 'DOCTYPE', documentName);
    } else if (next === '/') {
      const name = tagName(xml, lt + 2);
      const expected = open.pop();
      if (expected === undefined) fail(documentName, xml, lt, `closing tag </${name}> with nothing open`);
      if (expected !== name) {
        fail(documentName, xml, lt, `</${name}> where </${expected}> was expected`);
      }
      pos = endOf(xml, lt, '>', 'closing tag', documentName);
    } else {
      const name = tagName(xml, lt + 1);
      if (name === '') fail(documentName, xml, lt, 'a "<" that starts no tag');
      if (open.length === 0 && sawRoot) {
        fail(documentName, xml, lt, `second root element <${name}>`);
      }
      sawRoot = true;
      const gt = startTagEnd(xml, lt + 1 + name.length, documentName);
      if (xml[gt - 1] !== '/') open.push(name);
      pos = gt + 1;
    }
  }
  const unclosed = open.pop();
  if (unclosed !== undefined) {
    fail(documentName, xml, xml.length, `document ends inside <${unclosed}> (truncated?)`);
  }
  if (!sawRoot) fail(documentName, xml, 0, 'no root element');
}
