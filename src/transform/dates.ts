/**
 * Publication dates: `publishDate` (a year), `publishDateSort`, and the `dc:date` values that
 * appear in `spelling` (`2019-12-02`).
 */
import type { PmcArticle } from './parse/pmc-parser.js';
import type { PubmedDate, PubmedRecord } from './parse/pubmed-record.js';

const MONTH_NUMBER: Readonly<Record<string, number>> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

function monthNumber(month: string | undefined): number | undefined {
  if (month === undefined) return undefined;
  const trimmed = month.trim();
  const number = /^\d{1,2}$/.test(trimmed) ? Number(trimmed) : MONTH_NUMBER[trimmed.slice(0, 3).toLowerCase()];
  return number !== undefined && number >= 1 && number <= 12 ? number : undefined;
}

const twoDigits = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, as far as the parts go; nothing without a 4-digit year. */
export function formatDate(date: { year?: string; month?: string; day?: string } | undefined): string | undefined {
  const year = date?.year?.trim();
  if (year === undefined || !/^\d{4}$/.test(year)) return undefined;
  const month = monthNumber(date?.month);
  if (month === undefined) return year;
  const day = date?.day?.trim();
  const dayNumber = day !== undefined && /^\d{1,2}$/.test(day) ? Number(day) : 0;
  return dayNumber >= 1 && dayNumber <= 31
    ? `${year}-${twoDigits(month)}-${twoDigits(dayNumber)}`
    : `${year}-${twoDigits(month)}`;
}

const isFullDate = (date: string | undefined): date is string => date?.length === 10;

/** The first plausible year in free text ("1998 Dec-1999 Jan" → 1998, "2000 Spring" → 2000). */
function firstYear(text: string | undefined): string | undefined {
  return /[12]\d{3}/.exec(text ?? '')?.[0];
}

function pubmedDateYear(date: PubmedDate | undefined): string | undefined {
  const year = date?.year?.trim();
  return year !== undefined && /^\d{4}$/.test(year) ? year : firstYear(date?.medlineDate);
}

/** PubMed's year: the issue's `PubDate` (Year, else MedlineDate), else the electronic date. */
export function pubmedPublishYear(record: PubmedRecord): string | undefined {
  return pubmedDateYear(record.pubDate) ?? pubmedDateYear(record.electronicDate);
}

/**
 * PubMed's one date for `spelling`: the electronic date when complete (what PMC lists first for
 * an e-published article), else the issue date as far as it goes, else the year alone.
 */
export function pubmedDates(record: PubmedRecord): string[] {
  const electronic = formatDate(record.electronicDate);
  if (isFullDate(electronic)) return [electronic];
  const issue = formatDate(record.pubDate) ?? pubmedPublishYear(record);
  return issue === undefined ? [] : [issue];
}

/**
 * PMC's `dc:date` values: every complete publication date in document order (the release date
 * into PMC is not a publication date). With none complete, the first date as far as it goes.
 */
export function pmcDates(article: PmcArticle): string[] {
  const formatted = article.pubDates
    .filter((date) => date.type !== 'pmc-release')
    .map((date) => formatDate(date))
    .filter((date): date is string => date !== undefined);
  const complete = [...new Set(formatted.filter(isFullDate))];
  if (complete.length > 0) return complete;
  return formatted.slice(0, 1);
}

/** `publishDateSort`: the PubMed date when it is complete, else its year. */
export function pubmedSortDate(record: PubmedRecord): string | undefined {
  const issue = formatDate(record.pubDate);
  if (isFullDate(issue)) return issue;
  const electronic = formatDate(record.electronicDate);
  const year = pubmedPublishYear(record);
  if (isFullDate(electronic) && electronic.startsWith(year ?? '')) return electronic;
  return year;
}
