/**
 * PubMed record (+ PMC front matter and esummary, when fetched) → the catalogue record, field by
 * field as research/vufind-record-spec.md §4–6 derives the seed. The seed was built from PMC's
 * Dublin Core, so PMC's values win where both sources have one; PubMed fills in the rest.
 */
import type { PmcArticle } from './parse/pmc-parser.js';
import type { PmcSummary } from './parse/esummary-parser.js';
import { articleId, type PubmedRecord } from './parse/pubmed-record.js';
import { normalizeSpace } from './parse/xml-text.js';
import type { CatalogueRecord } from './types.js';
import { pmcDates, pubmedDates, pubmedPublishYear } from './dates.js';
import { isoLanguageCode, languageName } from './languages.js';
import { abstractText, pmcAuthorNames, pubmedAuthorNames, pubmedTitle, sortableTitle } from './text.js';
import { workKeys } from './work-keys.js';

export interface PmcData {
  article?: PmcArticle;
  summary?: PmcSummary;
}

const NCBI = 'https://www.ncbi.nlm.nih.gov';

/** The record's own links, site-relative (as `spelling` shows them) where NCBI hosts them. */
function identifiers(pubmed: PubmedRecord, pmcid: string | undefined, doi: string | undefined): string[] {
  const own =
    pubmed.kind === 'book'
      ? [articleId(pubmed, 'bookaccession')].map((nbk) => nbk && `/books/${nbk}/`)
      : [pmcid && `/pmc/articles/${pmcid}/`];
  return [...own, `/pubmed/${pubmed.pmid}`, doi && `http://dx.doi.org/${doi}`].filter(
    (id): id is string => Boolean(id),
  );
}

/** `pubmed-<PMC number>` for PMC articles (as the PMC harvest named them), else `pmid-<PMID>`. */
function catalogueId(pubmed: PubmedRecord, pmcid: string | undefined): string {
  return pmcid === undefined ? `pmid-${pubmed.pmid}` : `pubmed-${pmcid.replace(/^PMC/, '')}`;
}

function languages(pubmed: PubmedRecord, article: PmcArticle | undefined): { codes: string[]; names: string[] } {
  const codes = article?.language ? [article.language] : pubmed.languages.map(isoLanguageCode);
  const unique = [...new Set(codes.map((code) => code.trim()).filter(Boolean))];
  return { codes: unique, names: [...new Set(unique.map(languageName))] };
}

export function toCatalogueRecord(pubmed: PubmedRecord, pmc: PmcData = {}): CatalogueRecord {
  const { article, summary } = pmc;
  const pmcid = articleId(pubmed, 'pmc') ?? article?.pmcid;
  const id = catalogueId(pubmed, pmcid);
  const doi =
    articleId(pubmed, 'doi') ?? pubmed.locationIds.find((lid) => lid.type === 'doi')?.value ?? article?.doi;

  const title = article?.title ?? pubmedTitle(pubmed);
  const pmcAuthors = article ? pmcAuthorNames(article.authors) : [];
  const authors = pmcAuthors.length > 0 ? pmcAuthors : pubmedAuthorNames(pubmed.authors);
  const description = abstractText(pubmed.abstract) ?? abstractText(article?.abstract);
  const publisher = article?.publisher ?? pubmed.publisher?.name;
  const topic = article?.headings ?? [];
  const language = languages(pubmed, article);
  const dates = article ? pmcDates(article) : pubmedDates(pubmed);
  const publishYear = article && dates[0] ? dates[0].slice(0, 4) : pubmedPublishYear(pubmed);
  const links = identifiers(pubmed, pmcid, doi);
  const rights = article
    ? [...article.copyrightStatements, ...article.licenseTexts]
    : [pubmed.copyrightInformation];
  const journalAbbreviation =
    article?.journalNlmTa ?? pubmed.journal?.medlineTA ?? pubmed.journal?.isoAbbreviation;
  const keys = workKeys([title, sortableTitle(title)], authors);

  // allfields as the harvest wrote it: id and OAI datestamp glued together, then every Dublin
  // Core element in order; `format` never reaches it (Solr copyFields do not chain).
  const spelling = normalizeSpace(
    [
      id + (summary?.liveDate ?? ''),
      title,
      ...authors,
      journalAbbreviation,
      ...topic,
      description,
      publisher,
      ...dates,
      ...links,
      'Text',
      ...language.codes,
      ...rights,
    ]
      .filter((part): part is string => part !== undefined)
      .join(' '),
  );

  const record: CatalogueRecord = {
    id,
    title,
    title_short: title,
    title_full: title,
    title_fullStr: title,
    title_full_unstemmed: title,
    title_sort: sortableTitle(title),
    author: authors,
    author_facet: authors,
    author_sort: authors[0],
    description,
    format: ['Online', pubmed.kind === 'book' ? 'Book' : 'Article', 'Text'],
    language: language.names,
    publishDate: publishYear === undefined ? [] : [publishYear],
    publisher: publisher === undefined ? undefined : [publisher],
    collection: ['PubMed'],
    institution: ['National Center for Biotechnology Information'],
    record_format: 'MEDLINE/PubMed',
    topic,
    url: links.map((link) => (link.startsWith('/') ? NCBI + link : link)),
    work_keys_str_mv: keys,
    spelling,
    spellingShingle: [...topic, ...authors, title],
  };
  return withoutEmptyFields(record);
}

/** Optional fields are absent, never `undefined` or `[]`: the record is stored as JSON. */
function withoutEmptyFields(record: CatalogueRecord): CatalogueRecord {
  const optional = ['author', 'author_facet', 'author_sort', 'description', 'publisher', 'topic', 'work_keys_str_mv'] as const;
  const copy: Partial<CatalogueRecord> = { ...record };
  for (const field of optional) {
    const value = copy[field];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) delete copy[field];
  }
  return copy as CatalogueRecord;
}
