/** What the PubMed parser gives the transform: one PubMed record, decoded and typed. */

export interface PubmedAuthor {
  lastName?: string;
  foreName?: string;
  initials?: string;
  /** "Jr", "3rd", … */
  suffix?: string;
  /** A group author ("TAX 325 Study Group"), in place of the name parts. */
  collectiveName?: string;
  /** False for `ValidYN="N"`: an author NLM lists as wrongly attributed. */
  valid: boolean;
}

/** A PubMed date as given: any part may be missing; `medlineDate` is free text ("1998 Dec-1999 Jan"). */
export interface PubmedDate {
  year?: string;
  month?: string;
  day?: string;
  season?: string;
  medlineDate?: string;
}

export interface AbstractSection {
  /** `Label` ("BACKGROUND", "Methods", …), shown before the section text. */
  label?: string;
  /** `NlmCategory` (BACKGROUND|OBJECTIVE|METHODS|RESULTS|CONCLUSIONS|UNASSIGNED). */
  category?: string;
  text: string;
}

export interface ArticleId {
  /** `IdType` / `EIdType`: pubmed, pmc, doi, pii, bookaccession, … */
  type: string;
  value: string;
}

export interface JournalInfo {
  title?: string;
  isoAbbreviation?: string;
  /** `MedlineJournalInfo/MedlineTA`, NLM's title abbreviation ("J Clin Med"). */
  medlineTA?: string;
  /** `Journal/ISSN` (with its IssnType) then `ISSNLinking`. */
  issns: ArticleId[];
  volume?: string;
  issue?: string;
}

export interface PubmedRecord {
  kind: 'article' | 'book';
  pmid: number;
  /** `ArticleTitle` flattened, exactly as PubMed has it (trailing period, brackets and all). */
  articleTitle?: string;
  vernacularTitle?: string;
  /** Books only: `Book/BookTitle`. */
  bookTitle?: string;
  /** The `Abstract` sections in order; absent when the record has no abstract. */
  abstract?: AbstractSection[];
  copyrightInformation?: string;
  /** Authors in document order (editors excluded), invalid ones included and marked. */
  authors: PubmedAuthor[];
  /** 3-letter codes as PubMed gives them (`eng`, `spa`, …). */
  languages: string[];
  publicationTypes: string[];
  journal?: JournalInfo;
  /** `JournalIssue/PubDate`, or `Book/PubDate` for books. */
  pubDate?: PubmedDate;
  /** `ArticleDate[@DateType='Electronic']`. */
  electronicDate?: PubmedDate;
  startPage?: string;
  /** `ELocationID`s: the publisher's doi/pii, valid ones only. */
  locationIds: ArticleId[];
  meshDescriptors: string[];
  keywords: string[];
  /** The record's own ids: `PubmedData/ArticleIdList` (books: `BookDocument` and `PubmedBookData`). */
  articleIds: ArticleId[];
  /** Books only. */
  publisher?: { name: string; location?: string };
  isbns: string[];
}

/** The first of the record's own ids of `type` (`pmc`, `doi`, `bookaccession`, …). */
export function articleId(record: PubmedRecord, type: string): string | undefined {
  return record.articleIds.find((id) => id.type === type)?.value;
}
