/**
 * Text out of NCBI XML. The parser is run with entity processing off (see xml-document.ts), so
 * every text value arrives raw: these helpers decode character references and flatten inline
 * markup themselves, which is what makes the text lossless.
 */

const CHARACTER_REFERENCE = /&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));/g;

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** U+FFFD stands in for a reference to a code point XML forbids (NUL, a lone surrogate, > U+10FFFF). */
function codePointText(codePoint: number): string {
  const forbidden =
    codePoint === 0 || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff;
  return String.fromCodePoint(forbidden ? 0xfffd : codePoint);
}

/**
 * Decodes numeric character references and XML's five predefined entities. Any other `&name;`
 * stays as written: documents never get to define entities, so nothing can expand.
 */
export function decodeEntities(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(CHARACTER_REFERENCE, (_match, hex?: string, decimal?: string, name?: string) => {
    if (hex !== undefined) return codePointText(Number.parseInt(hex, 16));
    if (decimal !== undefined) return codePointText(Number.parseInt(decimal, 10));
    return PREDEFINED[name ?? ''] ?? '';
  });
}

/**
 * XPath `normalize-space`: collapses runs of space, tab, CR and LF and trims them. Unlike JS `\s`
 * or `trim()` it keeps NBSP, thin spaces and the like, as VuFind's XSLT import did.
 */
export function normalizeSpace(text: string): string {
  return isSpaceNormal(text) ? text : text.replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '');
}

/** True when normalizeSpace would leave `text` as it is: most values, which then cost no copy. */
function isSpaceNormal(text: string): boolean {
  const last = text.length - 1;
  if (last < 0) return true;
  if (text.charCodeAt(0) === 32 || text.charCodeAt(last) === 32) return false;
  for (let i = 0; i <= last; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 9 || code === 10 || code === 13 || (code === 32 && text.charCodeAt(i + 1) === 32)) return false;
  }
  return true;
}

const MARKUP =
  /<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;

/** `mml:math` → `math`: MathML comes with and without a namespace prefix. */
function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon === -1 ? qualified : qualified.slice(colon + 1);
}

/**
 * Flattens the raw inner XML of a mixed-content element (`ArticleTitle`, `AbstractText`, JATS
 * `article-title`, …) into its text, keeping every character of every text node:
 * - `<sup>x</sup>` and `<sub>x</sub>` become `(x)`, PubMed's own text convention (`10(6)`);
 * - other inline elements (`i b u`, `ext-link`, …) leave only their text;
 * - inside MathML, whitespace-only text between elements is indentation, not content, and is
 *   dropped, so `<mi>V</mi> <mi>O</mi>` reads `VO`;
 * - CDATA is kept verbatim; comments and processing instructions are dropped.
 */
export function flattenMixed(raw: string): string {
  if (!raw.includes('<')) return decodeEntities(raw);
  let text = '';
  let mathDepth = 0;
  let last = 0;
  const appendText = (segment: string): void => {
    if (segment === '') return;
    if (mathDepth > 0 && /^[ \t\r\n]*$/.test(segment)) return;
    text += decodeEntities(segment);
  };
  for (const match of raw.matchAll(MARKUP)) {
    appendText(raw.slice(last, match.index));
    last = match.index + match[0].length;
    const [, cdata, closing, name, selfClosing] = match;
    if (cdata !== undefined) {
      text += cdata;
      continue;
    }
    if (name === undefined || selfClosing === '/') continue;
    const local = localName(name);
    if (local === 'math') mathDepth += closing === '/' ? -1 : 1;
    else if (local === 'sup' || local === 'sub') text += closing === '/' ? ')' : '(';
  }
  appendText(raw.slice(last));
  return text;
}
