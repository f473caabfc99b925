/**
 * What the load stage writes for one record, as the load statements send it: the
 * catalogue_record columns (record and derived fields as JSON text), facet rows and source XML.
 * Pure, so the transform workers build rows and the main thread only sends them: strings cross
 * between threads far more cheaply than the record's objects.
 */
import { indexableText, replacementCharacters, storableXml } from '../transform/storable-text.js';
import { TRANSFORM_VERSION } from '../transform/index.js';
import { pubmedRevised } from '../transform/revised.js';
import type { TransformedRecord } from '../transform/types.js';
import { citationRows, meshColumns, type CitationRow, type MeshColumns } from './citation-rows.js';

/**
 * One record as the load statements take it: the catalogue_record columns, facets and sources.
 * Its many small rows (facets, MeSH) come as columns of plain values, not one object each.
 */
export interface UpsertRow {
  pmid: number;
  catalogue_id: string;
  content_hash: string;
  /** The record and its derived fields as JSON text, stored as jsonb. */
  record_json: string;
  derived_json: string;
  title: string;
  journal: string | null;
  publish_year: number | null;
  doi: string | null;
  pmcid: string | null;
  /** The record_facet rows: facet names and their values, in parallel. */
  facet_names: readonly string[];
  facet_values: readonly string[];
  pubmed_xml: string;
  pmc_article_xml: string | null;
  pmc_summary_xml: string | null;
  /** record_mesh rows read from the PubMed XML (citation-rows.ts), written with the XML. */
  mesh: MeshColumns;
  /** The record_citation row; null for a book. */
  citation: CitationRow | null;
  /** The TRANSFORM_VERSION that built the row. */
  transform_version: number;
  /** The PubMed record's DateRevised (`2024-03-07`): an older record than the stored one is not applied. */
  pubmed_revised: string | null;
  /**
   * U+FFFD characters in the record's XML as fetched: each one stands for bytes that were not
   * UTF-8 (or a character NCBI's own data had already lost). The record loads; the count is
   * reported with its PMID.
   */
  replacement_characters: number;
}

const PMC_CATALOGUE_ID = /^pubmed-(\d+)$/;
const YEAR = /^(\d{4})/;

/**
 * The catalogue_record row of a record, with the typed columns analysts filter on. Columns with
 * a btree index get values cut to what an index entry holds (indexableText), and the source XML
 * loses the NUL characters PostgreSQL cannot store (storableXml).
 */
export function toUpsertRow(record: TransformedRecord): UpsertRow {
  const year = YEAR.exec(record.record.publishDate[0] ?? '')?.[1];
  const pmcNumber = PMC_CATALOGUE_ID.exec(record.catalogueId)?.[1];
  const pubmedXml = storableXml(record.sourceXml);
  const { mesh, citation } = citationRows(pubmedXml);
  return {
    pmid: record.pmid,
    catalogue_id: indexableText(record.catalogueId),
    content_hash: record.contentHash,
    record_json: record.recordJson,
    derived_json: record.derivedJson,
    title: record.record.title,
    journal: nullableIndexable(record.derived.container_title),
    publish_year: year === undefined ? null : Number(year),
    doi: nullableIndexable(record.derived.doi_str_mv?.[0]),
    pmcid: pmcNumber === undefined ? null : `PMC${pmcNumber}`,
    facet_names: record.facets.map((facet) => facet.facet),
    facet_values: record.facets.map((facet) => facet.value),
    pubmed_xml: pubmedXml,
    mesh: meshColumns(mesh),
    citation,
    pmc_article_xml: record.pmcArticleXml === undefined ? null : storableXml(record.pmcArticleXml),
    pmc_summary_xml: record.pmcSummaryXml === undefined ? null : storableXml(record.pmcSummaryXml),
    transform_version: TRANSFORM_VERSION,
    pubmed_revised: pubmedRevised(record.sourceXml),
    replacement_characters:
      replacementCharacters(record.sourceXml) +
      replacementCharacters(record.pmcArticleXml ?? '') +
      replacementCharacters(record.pmcSummaryXml ?? ''),
  };
}

function nullableIndexable(value: string | undefined): string | null {
  return value === undefined ? null : indexableText(value);
}
