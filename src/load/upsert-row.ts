/**
 * What the load stage writes for one record, as the load statements send it: the
 * catalogue_record columns (record and derived fields as JSON text), facet rows and source XML.
 * Pure, so the transform workers build rows and the main thread only sends them: strings cross
 * between threads far more cheaply than the record's objects.
 */
import type { FacetRow, TransformedRecord } from '../transform/types.js';

/** One record as the load statements take it: the catalogue_record columns, facets and sources. */
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
  facets: readonly FacetRow[];
  pubmed_xml: string;
  pmc_article_xml: string | null;
  pmc_summary_xml: string | null;
}

const PMC_CATALOGUE_ID = /^pubmed-(\d+)$/;
const YEAR = /^(\d{4})/;

/** The catalogue_record row of a record, with the typed columns analysts filter on. */
export function toUpsertRow(record: TransformedRecord): UpsertRow {
  const year = YEAR.exec(record.record.publishDate[0] ?? '')?.[1];
  const pmcNumber = PMC_CATALOGUE_ID.exec(record.catalogueId)?.[1];
  return {
    pmid: record.pmid,
    catalogue_id: record.catalogueId,
    content_hash: record.contentHash,
    record_json: record.recordJson,
    derived_json: record.derivedJson,
    title: record.record.title,
    journal: record.derived.container_title ?? null,
    publish_year: year === undefined ? null : Number(year),
    doi: record.derived.doi_str_mv?.[0] ?? null,
    pmcid: pmcNumber === undefined ? null : `PMC${pmcNumber}`,
    facets: record.facets,
    pubmed_xml: record.sourceXml,
    pmc_article_xml: record.pmcArticleXml ?? null,
    pmc_summary_xml: record.pmcSummaryXml ?? null,
  };
}
