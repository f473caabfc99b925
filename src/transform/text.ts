/** Titles, names and abstracts as the catalogue record writes them (spec §4). */
import type { PmcContributor } from './parse/pmc-parser.js';
import type { AbstractSection, PubmedAuthor, PubmedRecord } from './parse/pubmed-record.js';
import { normalizeSpace } from './parse/xml-text.js';

/** NLM ends every title with a period; PMC and the catalogue do not. "?" and "!" stay. */
function stripTrailingPeriod(title: string): string {
  return title.endsWith('.') ? title.slice(0, -1) : title;
}

/**
 * SolrMarc's `removeOuterBrackets`: drops a bracket pair only when it encloses the whole title
 * ("[Title]" → "Title", but "[A] and [B]" stays).
 */
function removeOuterBrackets(title: string): string {
  if (!title.startsWith('[') || !title.endsWith(']')) return title;
  let depth = 0;
  for (let i = 0; i < title.length; i += 1) {
    if (title[i] === '[') depth += 1;
    else if (title[i] === ']') depth -= 1;
    if (depth === 0 && i < title.length - 1) return title;
  }
  return title.slice(1, -1);
}

/**
 * The record title from PubMed alone. A bracketed title is NLM's English translation: the
 * original-language `VernacularTitle` replaces it when there is one, else the brackets go.
 * Books use the chapter title, else the book title.
 */
export function pubmedTitle(record: PubmedRecord): string {
  const title = stripTrailingPeriod(record.articleTitle ?? record.bookTitle ?? '');
  const translated = title.startsWith('[') && title.endsWith(']');
  if (translated && record.vernacularTitle) return stripTrailingPeriod(record.vernacularTitle);
  return stripTrailingPeriod(removeOuterBrackets(title));
}

/** PHP's `trim`: space, tab, LF, CR, NUL and vertical tab off both ends. */
function phpTrim(text: string): string {
  const isTrimmed = (code: number): boolean => code === 32 || code === 9 || code === 10 || code === 13 || code === 0 || code === 11;
  let start = 0;
  let end = text.length;
  while (start < end && isTrimmed(text.charCodeAt(start))) start += 1;
  while (end > start && isTrimmed(text.charCodeAt(end - 1))) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * VuFind's `stripArticles`: PHP `trim`, lower-case, then drop one leading English article.
 * No punctuation or accent stripping: the seed's "sclerosis—a phase" keeps its dash.
 */
export function sortableTitle(title: string): string {
  const lower = phpTrim(title).toLowerCase();
  for (const article of ['a ', 'an ', 'the ']) {
    if (lower.startsWith(article)) return lower.slice(article.length);
  }
  return lower;
}

/**
 * "LastName, ForeName" (initials when there is no fore name), with a suffix after another comma
 * ("Smith, John, Jr"); a group author as written. Invalid (`ValidYN="N"`) authors are skipped.
 */
export function pubmedAuthorNames(authors: readonly PubmedAuthor[]): string[] {
  return authors
    .filter((author) => author.valid)
    .map((author) => {
      if (author.collectiveName) return normalizeSpace(author.collectiveName);
      const given = author.foreName || author.initials;
      return normalizeSpace([author.lastName, given, author.suffix].filter(Boolean).join(', '));
    })
    .filter((name) => name !== '');
}

/** JATS contributors as PMC's Dublin Core writes them: "surname, given-names"; `collab` as is. */
export function pmcAuthorNames(contributors: readonly PmcContributor[]): string[] {
  return contributors
    .map((contributor) => {
      if (contributor.collab) return contributor.collab;
      const parts = [contributor.surname, contributor.givenNames, contributor.suffix];
      return normalizeSpace(parts.filter(Boolean).join(', '));
    })
    .filter((name) => name !== '');
}

/**
 * One paragraph: each section's text, labelled sections as "LABEL: text", joined by a space.
 * The text itself is kept raw (line breaks included), as VuFind keeps `dc:description`.
 */
export function abstractText(sections: readonly AbstractSection[] | undefined): string | undefined {
  if (sections === undefined || sections.length === 0) return undefined;
  return sections
    .map((section) => (section.label ? `${section.label}: ${section.text}` : section.text))
    .join(' ');
}
