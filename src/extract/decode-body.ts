/**
 * The text of an answer's bytes, read the way an XML parser reads a document: a byte-order mark
 * decides the encoding; without one, the encoding the XML declaration names
 * (`<?xml version="1.0" encoding="ISO-8859-1"?>`), then the `charset` of the HTTP content type,
 * then UTF-8. The declaration comes before the header because it travels with the bytes, while a
 * front end may label whatever it passes on `charset=UTF-8`.
 *
 * Bytes that are not valid in that encoding are decoded as U+FFFD, and said so (`lossy`), so the
 * caller can warn: the original characters are gone for good. The common case (valid UTF-8, no
 * mark) costs one validating decode, as fast as Buffer's own.
 */
import { TextDecoder } from 'node:util';

export interface DecodedBody {
  text: string;
  /** The WHATWG name of the encoding used (`utf-8`, `windows-1252`, `utf-16le`, …). */
  encoding: string;
  /** Some bytes were not valid in `encoding` and became U+FFFD. */
  lossy: boolean;
}

/** How far into a body the XML declaration may end; its attributes fit easily. */
const DECLARATION_BYTES = 256;

const strictDecoders = new Map<string, TextDecoder>();
const lossyDecoders = new Map<string, TextDecoder>();

export function decodeBody(bytes: Uint8Array, contentType?: string): DecodedBody {
  const encoding = markedEncoding(bytes) ?? supportedEncoding(declaredEncoding(bytes)) ?? supportedEncoding(charsetOf(contentType)) ?? 'utf-8';
  let text: string;
  let lossy = false;
  try {
    // The decoder drops the byte-order mark of its own encoding.
    text = decoder(strictDecoders, encoding, true).decode(bytes);
  } catch {
    text = decoder(lossyDecoders, encoding, false).decode(bytes);
    lossy = true;
  }
  return { text: encoding === 'windows-1252' ? windows1252Punctuation(text) : text, encoding, lossy };
}

/**
 * Bytes 0x80–0x9F as windows-1252 has them (€, curly quotes, dashes), which is also what the
 * WHATWG means by ISO-8859-1: Node 20's TextDecoder gives C1 control characters instead.
 */
function windows1252Punctuation(text: string): string {
  return /[\u0080-\u009f]/.test(text) ? text.replace(/[\u0080-\u009f]/g, (character) => WINDOWS_1252_C1[character.charCodeAt(0) - 0x80] as string) : text;
}

// The five bytes windows-1252 leaves undefined stay as they are, as in the WHATWG's table.
const WINDOWS_1252_C1 = [
  '\u20ac', '\u0081', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021', '\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008d', '\u017d', '\u008f',
  '\u0090', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014', '\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\u009d', '\u017e', '\u0178',
];

function markedEncoding(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** The `encoding` of an XML declaration at the very start of the body, read as ASCII. */
function declaredEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, DECLARATION_BYTES)).toString('latin1');
  return /^<\?xml\s[^>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/.exec(head)?.[2];
}

function charsetOf(contentType: string | undefined): string | undefined {
  return contentType === undefined ? undefined : /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
}

/**
 * The WHATWG name for `label`, or undefined when TextDecoder does not know it. A UTF-16 label
 * without a byte-order mark is ignored: the label itself was readable as ASCII, so the body is not
 * UTF-16.
 */
function supportedEncoding(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  try {
    const encoding = new TextDecoder(label).encoding;
    return encoding.startsWith('utf-16') ? undefined : encoding;
  } catch {
    return undefined;
  }
}

function decoder(cache: Map<string, TextDecoder>, encoding: string, fatal: boolean): TextDecoder {
  let found = cache.get(encoding);
  if (found === undefined) {
    found = new TextDecoder(encoding, { fatal });
    cache.set(encoding, found);
  }
  return found;
}
