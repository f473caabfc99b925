/**
 * Language codes → the display names VuFind's import gives them. PubMed lists MARC/ISO 639-2/B
 * codes (`eng`, `fre`, `ger`); PMC gives ISO 639-1 (`en`). Both go through the 639-1 names of
 * VuFind's `language_map_iso639-1.properties`, so a record reads the same whichever source it
 * was built from (`spa` → `es` → "Spanish / Castilian").
 */

/** VuFind's ISO 639-1 display names. */
const NAME_BY_639_1: Readonly<Record<string, string>> = {
  ab: 'Abkhazian', af: 'Afrikaans', an: 'Aragonese', ar: 'Arabic', as: 'Assamese',
  az: 'Azerbaijani', be: 'Belarusian', bg: 'Bulgarian', bn: 'Bengali', bo: 'Tibetan',
  br: 'Breton', bs: 'Bosnian', ca: 'Catalan / Valencian', ce: 'Chechen', co: 'Corsican',
  cs: 'Czech', cu: 'Church Slavic', cy: 'Welsh', da: 'Danish', de: 'German', el: 'Greek',
  en: 'English', eo: 'Esperanto', es: 'Spanish / Castilian', et: 'Estonian', eu: 'Basque',
  fa: 'Persian', fi: 'Finnish', fj: 'Fijian', fo: 'Faroese', fr: 'French',
  fy: 'Western Frisian', ga: 'Irish', gd: 'Gaelic / Scottish Gaelic', gl: 'Galician',
  gv: 'Manx', he: 'Hebrew', hi: 'Hindi', hr: 'Croatian', ht: 'Haitian; Haitian Creole',
  hu: 'Hungarian', hy: 'Armenian', id: 'Indonesian', is: 'Icelandic', it: 'Italian',
  ja: 'Japanese', jv: 'Javanese', ka: 'Georgian', kg: 'Kongo', ko: 'Korean', ku: 'Kurdish',
  kw: 'Cornish', ky: 'Kirghiz', la: 'Latin', lb: 'Luxembourgish; Letzeburgesch',
  li: 'Limburgan; Limburger; Limburgish', ln: 'Lingala', lt: 'Lithuanian', lv: 'Latvian',
  mg: 'Malagasy', mk: 'Macedonian', mn: 'Mongolian', mo: 'Moldavian', ms: 'Malay',
  mt: 'Maltese', my: 'Burmese', nb: 'Norwegian (Bokmål)', ne: 'Nepali', nl: 'Dutch',
  nn: 'Norwegian (Nynorsk)', no: 'Norwegian', oc: 'Occitan (post 1500); Provençal',
  pl: 'Polish', pt: 'Portuguese', rm: 'Raeto-Romance', ro: 'Romanian', ru: 'Russian',
  sc: 'Sardinian', se: 'Northern Sami', sk: 'Slovak', sl: 'Slovenian', so: 'Somali',
  sq: 'Albanian', sr: 'Serbian', sv: 'Swedish', sw: 'Swahili', tk: 'Turkmen', tr: 'Turkish',
  ty: 'Tahitian', uk: 'Ukrainian', ur: 'Urdu', uz: 'Uzbek', vi: 'Vietnamese', vo: 'Volapuk',
  yi: 'Yiddish', zh: 'Chinese',
};

/** ISO 639-2/B (as PubMed writes it) → ISO 639-1, for every language named above. */
const ISO_639_1_BY_639_2: Readonly<Record<string, string>> = {
  abk: 'ab', afr: 'af', alb: 'sq', ara: 'ar', arg: 'an', arm: 'hy', asm: 'as', aze: 'az',
  baq: 'eu', bel: 'be', ben: 'bn', bos: 'bs', bre: 'br', bul: 'bg', bur: 'my', cat: 'ca',
  che: 'ce', chi: 'zh', chu: 'cu', cor: 'kw', cos: 'co', cze: 'cs', dan: 'da', dut: 'nl',
  eng: 'en', epo: 'eo', est: 'et', fao: 'fo', fij: 'fj', fin: 'fi', fre: 'fr', fry: 'fy',
  geo: 'ka', ger: 'de', gla: 'gd', gle: 'ga', glg: 'gl', glv: 'gv', gre: 'el', hat: 'ht',
  heb: 'he', hin: 'hi', hrv: 'hr', hun: 'hu', ice: 'is', ind: 'id', ita: 'it', jav: 'jv',
  jpn: 'ja', kir: 'ky', kon: 'kg', kor: 'ko', kur: 'ku', lat: 'la', lav: 'lv', lim: 'li',
  lin: 'ln', lit: 'lt', ltz: 'lb', mac: 'mk', may: 'ms', mlg: 'mg', mlt: 'mt', mol: 'mo',
  mon: 'mn', nep: 'ne', nno: 'nn', nob: 'nb', nor: 'no', oci: 'oc', per: 'fa', pol: 'pl',
  por: 'pt', roh: 'rm', rum: 'ro', rus: 'ru', slo: 'sk', slv: 'sl', sme: 'se', som: 'so',
  spa: 'es', srd: 'sc', srp: 'sr', swa: 'sw', swe: 'sv', tah: 'ty', tib: 'bo', tuk: 'tk',
  tur: 'tr', ukr: 'uk', urd: 'ur', uzb: 'uz', vie: 'vi', vol: 'vo', wel: 'cy', yid: 'yi',
};

/** Codes with no 639-1 equivalent, named as VuFind's MARC `language_map.properties` names them. */
const NAME_BY_MARC_CODE: Readonly<Record<string, string>> = {
  und: 'Undetermined',
  mul: 'Multiple languages',
  tha: 'Thai',
  mal: 'Malayalam',
  tam: 'Tamil',
  tel: 'Telugu',
  mar: 'Marathi',
  pus: 'Pushto',
  kaz: 'Kazakh',
  sin: 'Sinhalese',
  amh: 'Amharic',
  tgl: 'Tagalog',
};

/** The ISO 639-1 code for a PubMed language code, or the code itself when there is none. */
export function isoLanguageCode(pubmedCode: string): string {
  const code = pubmedCode.trim().toLowerCase();
  return ISO_639_1_BY_639_2[code] ?? code;
}

/**
 * The display name for a 639-1 or 639-2/B code. An unknown code comes back unchanged, as
 * VuFind's `mapString` does (a region-tagged `pt-BR` from PMC stays `pt-BR`).
 */
export function languageName(code: string): string {
  const trimmed = code.trim();
  const lower = trimmed.toLowerCase();
  const iso1 = ISO_639_1_BY_639_2[lower] ?? lower;
  return NAME_BY_639_1[iso1] ?? NAME_BY_MARC_CODE[lower] ?? trimmed;
}
