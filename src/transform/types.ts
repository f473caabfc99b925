/**
 * The catalogue record: the VuFind/Solr document the catalogue holds, field for field as the
 * seed record of PMID 31810187 shows it. Optional fields are absent (never empty) when the
 * source has nothing for them.
 */
export interface CatalogueRecord {
  id: string;
  title: string;
  title_short: string;
  title_full: string;
  title_fullStr: string;
  title_full_unstemmed: string;
  title_sort: string;
  author?: string[];
  author_facet?: string[];
  author_sort?: string;
  description?: string;
  format: string[];
  language: string[];
  publishDate: string[];
  publisher?: string[];
  collection: string[];
  institution: string[];
  record_format: string;
  topic?: string[];
  url: string[];
  work_keys_str_mv?: string[];
  spelling: string;
  spellingShingle: string[];
}

/**
 * Fields derived beyond the seed record, with VuFind's standard names. They are kept beside the
 * record (typed columns and facet rows) so that `record` stays exactly the catalogue's document.
 */
export interface DerivedFields {
  container_title?: string;
  container_volume?: string;
  container_issue?: string;
  container_start_page?: string;
  issn?: string[];
  doi_str_mv?: string[];
  /** MeSH descriptors, then author keywords. */
  topic_facet?: string[];
  /** Publication types. */
  genre_facet?: string[];
  /** `YYYY` or `YYYY-MM-DD`, sortable. */
  publishDateSort?: string;
}

/** One row of `record_facet`. */
export interface FacetRow {
  facet: string;
  value: string;
}

/** A record ready to load: everything the load stage writes for one PMID. */
export interface TransformedRecord {
  pmid: number;
  catalogueId: string;
  record: CatalogueRecord;
  derived: DerivedFields;
  facets: FacetRow[];
  /** `record` and `derived` as canonical JSON (hash.ts): the text hashed, and stored as jsonb. */
  recordJson: string;
  derivedJson: string;
  /** sha256 (hex) over canonical JSON of `{ record, derived }`: what the load stage compares. */
  contentHash: string;
  /** The PubMed record's XML exactly as fetched. */
  sourceXml: string;
  /** The PMC JATS article and esummary used, when there were any. */
  pmcArticleXml?: string;
  pmcSummaryXml?: string;
}
