/**
 * Rows for the `record_facet` table: one (facet, value) pair per value an analyst can count or
 * filter on. Facet names:
 * - `author`: each author as the record writes it ("Iacobaeus, Ellen", group names as is)
 * - `year`: the publication year (`publishDate`)
 * - `language`: display names ("English")
 * - `format`: "Online", "Article" | "Book", "Text"
 * - `journal`: the journal's full title (articles only)
 * - `topic`: MeSH descriptors, then author keywords (`topic_facet`)
 * - `publication_type`: PubMed publication types ("Journal Article", "Review"; `genre_facet`)
 * Values are distinct within a facet. Each value is cut to what a btree index entry can hold
 * (storable-text.ts: indexableText); the record keeps the whole value.
 */
import { indexableText } from './storable-text.js';
import type { CatalogueRecord, DerivedFields, FacetRow } from './types.js';

export function facets(record: CatalogueRecord, derived: DerivedFields): FacetRow[] {
  const isArticle = record.format.includes('Article');
  const groups: [string, readonly string[]][] = [
    ['author', record.author ?? []],
    ['year', record.publishDate],
    ['language', record.language],
    ['format', record.format],
    ['journal', isArticle && derived.container_title ? [derived.container_title] : []],
    ['topic', derived.topic_facet ?? []],
    ['publication_type', derived.genre_facet ?? []],
  ];
  return groups.flatMap(([facet, values]) =>
    [...new Set(values.map(indexableText))].filter((value) => value !== '').map((value) => ({ facet, value })),
  );
}
