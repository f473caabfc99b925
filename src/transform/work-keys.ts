/**
 * VuFind work keys (`work_keys_str_mv`): "AT <author> <title>" per author and title form, as
 * `VuFindWorkKeys::getWorkKeys` builds them, so records of one work can be grouped.
 *
 * VuFind normalises with the ICU transform `:: NFD; :: lower; :: Latin; :: [^[:letter:]
 * [:number:]] Remove; :: NFKC;`. Node has no ICU Transliterator, so `:: Latin` is done here with
 * a Greek → Latin table following ICU's Greek-Latin transform (TNF-α → tnfa, IL-1β → il1b,
 * NF-κB → nfkb, θ → th, η → ē, γγ → ng, αυ → au). What still differs from ICU:
 * - Other scripts are not transliterated: Cyrillic, Han, Arabic, … letters are kept as they are
 *   (ICU: "Влияние" → "vliânie", "新型" → "xīnxíng").
 * - Greek accents and breathings are dropped with the other combining marks: ICU keeps an
 *   accent as a Latin one (ά → á) and turns a rough breathing into "h" (ὁ → ho); here ά → a, ὁ → o.
 */

/** Greek letters (lower case, as they stand after NFD and lower-casing) → ICU's Latin. */
const GREEK_LETTER: Readonly<Record<string, string>> = {
  α: 'a', β: 'b', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'ē', θ: 'th', ι: 'i', κ: 'k', λ: 'l',
  μ: 'm', ν: 'n', ξ: 'x', ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'ph',
  χ: 'ch', ψ: 'ps', ω: 'ō', ϐ: 'b', ϑ: 'th', ϕ: 'ph', ϖ: 'p', ϰ: 'k', ϱ: 'r', ϲ: 's', ϵ: 'e',
};

/** Gamma before these is nasal: γγ → ng, γκ → nk, γξ → nx, γχ → nch. */
const NASAL_BEFORE = new Set(['γ', 'κ', 'ξ', 'χ']);
/** Upsilon after these vowels closes a diphthong and reads u: αυ → au, ευ → eu, ηυ → ēu, ου → ou. */
const DIPHTHONG_AFTER = new Set(['α', 'ε', 'η', 'ο']);
const COMBINING_DIAERESIS = '\u0308';
const GREEK = /[\u0370-\u03ff]/;

function greekToLatin(text: string): string {
  if (!GREEK.test(text)) return text;
  const chars = Array.from(text);
  let out = '';
  chars.forEach((ch, i) => {
    const next = chars[i + 1] ?? '';
    const previous = chars[i - 1] ?? '';
    if (ch === 'γ' && NASAL_BEFORE.has(next)) out += 'n';
    else if (ch === 'υ' && DIPHTHONG_AFTER.has(previous) && next !== COMBINING_DIAERESIS) out += 'u';
    else out += GREEK_LETTER[ch] ?? ch;
  });
  return out;
}

const NOT_LETTER_OR_NUMBER = /[^\p{L}\p{N}]/gu;
const ASCII = /^[\0-\x7f]*$/;
const NOT_ASCII_LETTER_OR_DIGIT = /[^a-z0-9]/g;
const MAX_CODE_POINTS = 255;

/** One work-key component: transliterated, letters and digits only, lower case, ≤ 255 code points. */
export function normalizeWorkKey(text: string): string {
  // ASCII has nothing to decompose, compose or transliterate, and its letters and digits are a-z 0-9.
  if (ASCII.test(text)) return capped(text.toLowerCase().replace(NOT_ASCII_LETTER_OR_DIGIT, ''));
  const decomposed = text.normalize('NFD').toLowerCase();
  const letters = greekToLatin(decomposed).replace(NOT_LETTER_OR_NUMBER, '');
  return capped(letters.normalize('NFKC').toLowerCase());
}

function capped(key: string): string {
  // PHP's mb_substr counts code points; String#slice would count UTF-16 units.
  return key.length <= MAX_CODE_POINTS ? key : Array.from(key).slice(0, MAX_CODE_POINTS).join('');
}

/**
 * "AT <author> <title>" for every author and each distinct non-empty normalised title, titles
 * outermost, as VuFind orders them. No authors → no keys (and no uniform titles in PubMed).
 */
export function workKeys(titles: readonly string[], authors: readonly string[]): string[] {
  if (authors.length === 0) return [];
  const authorKeys = authors.map(normalizeWorkKey);
  const seen = new Set<string>();
  const keys: string[] = [];
  for (const title of titles) {
    const normalizedTitle = normalizeWorkKey(title);
    if (normalizedTitle === '' || seen.has(normalizedTitle)) continue;
    seen.add(normalizedTitle);
    for (const author of authorKeys) keys.push(`AT ${author} ${normalizedTitle}`);
  }
  return keys;
}
