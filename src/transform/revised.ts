/**
 * The date NCBI last revised a PubMed record (`MedlineCitation/DateRevised`), read straight from
 * the XML: it decides whether a record a source brings is older than the stored one.
 */
const DATE_REVISED = /<DateRevised>\s*<Year>(\d{4})<\/Year>\s*<Month>(\d{1,2})<\/Month>\s*<Day>(\d{1,2})<\/Day>/;

/** `2024-03-07`, or null for a record without one. */
export function pubmedRevised(xml: string): string | null {
  const match = DATE_REVISED.exec(xml);
  if (match === null) return null;
  const [, year, month, day] = match as unknown as [string, string, string, string];
  return `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
}
