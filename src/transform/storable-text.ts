/**
 * Text the catalogue can store and index whatever NCBI sends. The rules are applied in the
 * pure transform, before the content hash, so a record is stored, hashed and compared the same
 * way on every load:
 * - characters XML 1.0 forbids (NUL and the other C0 controls but tab, line feed and carriage
 *   return; U+FFFE and U+FFFF; surrogates without their pair) are removed from every text value.
 *   PostgreSQL refuses NUL outright, and the others make the record's text unusable as XML.
 * - a value written into a btree-indexed column is cut to MAX_INDEXED_BYTES of UTF-8 on a
 *   character boundary. A btree entry holds at most 2,704 bytes (a third of a page), and past
 *   that PostgreSQL refuses the row; the record's JSON keeps the whole value.
 * - the stored source XML loses its NUL characters only (see storableXml).
 */

/** Anything outside XML 1.0's `Char` production; `\p{Cs}` in a `u` pattern matches only unpaired surrogates. */
const XML_FORBIDDEN = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|\p{Cs}/u;
const XML_FORBIDDEN_ALL = new RegExp(XML_FORBIDDEN.source, 'gu');

/**
 * Room for the value in a btree entry beside the other key columns (a PMID, a facet name, a
 * publication year) and the entry's own header, with a wide margin.
 */
export const MAX_INDEXED_BYTES = 2_000;

export function storableText(text: string): string {
  return XML_FORBIDDEN.test(text) ? text.replace(XML_FORBIDDEN_ALL, '') : text;
}

/**
 * `value` with storableText applied to every string in it (plain data: objects, arrays,
 * strings, numbers). Parts with nothing to remove are returned as they are, so a clean record
 * costs a walk and no copy.
 */
export function withStorableText<T>(value: T): T {
  return storable(value) as T;
}

function storable(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const cleaned = storable(item);
      if (cleaned !== item) (copy ??= [...value])[index] = cleaned;
    }
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const item = object[key];
    const cleaned = storable(item);
    if (cleaned !== item) (copy ??= { ...object })[key] = cleaned;
  }
  return copy ?? value;
}

/**
 * The longest prefix of `text` that fits in MAX_INDEXED_BYTES of UTF-8 without splitting a
 * character. Most values are far shorter, which the length alone shows: a UTF-16 unit never
 * takes more than 3 bytes.
 */
export function indexableText(text: string): string {
  if (text.length * 3 <= MAX_INDEXED_BYTES) return text;
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0) as number;
    const size = codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    if (bytes + size > MAX_INDEXED_BYTES) return text.slice(0, end);
    bytes += size;
    end += character.length;
  }
  return text;
}

/**
 * The source XML as stored: exactly as fetched but for NUL, which PostgreSQL cannot hold in
 * text. The other characters XML forbids can be stored, and the transform removes them from
 * the record whether they arrive raw or as character references, so a retransform of the
 * stored XML gives the same record.
 */
export function storableXml(xml: string): string {
  return xml.includes('\0') ? xml.replaceAll('\0', '') : xml;
}

/**
 * How many U+FFFD REPLACEMENT CHARACTERs `text` holds. Decoding a reply that is not valid
 * UTF-8 puts one where each bad sequence was; NCBI's own data shows one where its conversion
 * lost a character. Either way the original character is gone.
 */
export function replacementCharacters(text: string): number {
  let count = 0;
  for (let at = text.indexOf('\uFFFD'); at !== -1; at = text.indexOf('\uFFFD', at + 1)) count += 1;
  return count;
}
