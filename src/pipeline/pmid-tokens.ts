/**
 * The PMID candidates of one line of input. PMIDs are separated by commas and white space (space,
 * tab, any Unicode space), in any mix and any number, as lists pasted from a spreadsheet, an
 * e-mail or a search result come. A `PMID` or `PMID:` prefix is joined to what follows it across
 * white space, so `PMID: 123` stays one candidate; a comma always separates.
 */

/** A prefix only where a candidate follows it on the line; otherwise `PMID` is a candidate of its own. */
const CANDIDATE = /(?:pmid\s*:?\s*(?=[^,\s]))?[^,\s]+/gi;

export interface Candidate {
  text: string;
  /** 1-based, in UTF-16 code units (characters, but for the rare ones outside the BMP). */
  column: number;
}

export function pmidCandidates(line: string): Candidate[] {
  const candidates: Candidate[] = [];
  CANDIDATE.lastIndex = 0;
  for (let match = CANDIDATE.exec(line); match !== null; match = CANDIDATE.exec(line)) {
    candidates.push({ text: match[0], column: match.index + 1 });
  }
  return candidates;
}

/** How many candidates `pmidCandidates` finds in the line, without building them. */
export function countPmidCandidates(line: string): number {
  let count = 0;
  CANDIDATE.lastIndex = 0;
  while (CANDIDATE.exec(line) !== null) count += 1;
  return count;
}
