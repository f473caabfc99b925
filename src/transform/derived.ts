/**
 * Fields beyond the seed record, with VuFind's standard names, kept beside the record for typed
 * columns and facets. They come from PubMed alone, so they read the same with or without PMC.
 */
import { articleId, type PubmedRecord } from './parse/pubmed-record.js';
import type { DerivedFields } from './types.js';
import { pubmedSortDate } from './dates.js';

const unique = (values: readonly string[]): string[] => [...new Set(values.filter((v) => v !== ''))];

/** A list field is absent rather than empty, like the record's optional fields. */
const listOrAbsent = (values: readonly string[]): string[] | undefined => {
  const distinct = unique(values);
  return distinct.length === 0 ? undefined : distinct;
};

export function deriveFields(pubmed: PubmedRecord): DerivedFields {
  const journal = pubmed.journal;
  // A book chapter sits in its book the way an article sits in its journal.
  const containerTitle =
    pubmed.kind === 'book' ? (pubmed.articleTitle ? pubmed.bookTitle : undefined) : journal?.title;
  const dois = [
    articleId(pubmed, 'doi'),
    ...pubmed.locationIds.filter((id) => id.type === 'doi').map((id) => id.value),
  ].filter((doi): doi is string => doi !== undefined);
  const derived: DerivedFields = {
    container_title: containerTitle,
    container_volume: journal?.volume,
    container_issue: journal?.issue,
    container_start_page: pubmed.startPage,
    issn: listOrAbsent(journal?.issns.map((issn) => issn.value) ?? []),
    doi_str_mv: listOrAbsent(dois),
    topic_facet: listOrAbsent([...pubmed.meshDescriptors, ...pubmed.keywords]),
    genre_facet: listOrAbsent(pubmed.publicationTypes),
    publishDateSort: pubmedSortDate(pubmed),
  };
  for (const key of Object.keys(derived) as (keyof DerivedFields)[]) {
    if (derived[key] === undefined || derived[key] === '') delete derived[key];
  }
  return derived;
}
