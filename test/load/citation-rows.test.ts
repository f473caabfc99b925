import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { citationRows, type MeshRow } from '../../src/load/citation-rows.js';
import { storableXml } from '../../src/transform/storable-text.js';
import { backends, type TestDatabase } from '../support/databases.js';
import { loadPubmedFixtureRecords } from '../support/ncbi-fixtures.js';

/** The XPath reading the database did before the load sent these rows (sql/015), as the reference. */
const meshByXpath = (xml: string) => sql<MeshRow>`
  SELECT h.heading, h.descriptor, h.descriptor_ui, q.qualifier, q.qualifier_ui,
    CASE WHEN q.qualifier IS NULL THEN h.descriptor_major OR h.any_qualifier_major
         ELSE h.descriptor_major OR q.qualifier_major END AS major_topic
  FROM (SELECT ${xml}::xml AS doc) AS parsed
  CROSS JOIN XMLTABLE('/PubmedArticle/MedlineCitation/MeshHeadingList/MeshHeading' PASSING parsed.doc COLUMNS
    heading FOR ORDINALITY,
    descriptor text PATH 'DescriptorName',
    descriptor_ui text PATH 'DescriptorName/@UI',
    descriptor_major boolean PATH 'DescriptorName/@MajorTopicYN = "Y"',
    any_qualifier_major boolean PATH 'count(QualifierName[@MajorTopicYN = "Y"]) > 0',
    heading_xml xml PATH '.') AS h
  CROSS JOIN LATERAL (
    SELECT NULL::text AS qualifier, NULL::text AS qualifier_ui, false AS qualifier_major
    UNION ALL
    SELECT q.qualifier, q.qualifier_ui, q.qualifier_major
    FROM XMLTABLE('/MeshHeading/QualifierName' PASSING h.heading_xml COLUMNS
      qualifier text PATH '.', qualifier_ui text PATH '@UI', qualifier_major boolean PATH '@MajorTopicYN = "Y"') AS q
  ) AS q
  WHERE h.descriptor IS NOT NULL AND h.descriptor_ui IS NOT NULL`;

const citationByXpath = (xml: string) => sql<{ journal_abbreviation: string | null; pages: string | null }>`
  SELECT coalesce(c.medline_ta, c.iso_abbreviation) AS journal_abbreviation,
    coalesce(c.medline_pgn, c.start_page || coalesce('-' || c.end_page, '')) AS pages
  FROM XMLTABLE('/PubmedArticle/MedlineCitation' PASSING (${xml}::xml) COLUMNS
    medline_ta text PATH 'MedlineJournalInfo/MedlineTA',
    iso_abbreviation text PATH 'Article/Journal/ISOAbbreviation',
    medline_pgn text PATH 'Article/Pagination/MedlinePgn',
    start_page text PATH 'Article/Pagination/StartPage',
    end_page text PATH 'Article/Pagination/EndPage') AS c`;

const byPosition = (a: MeshRow, b: MeshRow) =>
  a.heading - b.heading || (a.qualifier === null ? -1 : b.qualifier === null ? 1 : a.qualifier.localeCompare(b.qualifier));

describe.each(backends)('MeSH and citation rows read by the load on $name', (backend) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await backend.open({ migrated: false });
  });
  afterAll(async () => {
    await database.close();
  });

  it('are the rows the database read with XPath, for every fixture record', async () => {
    const records = loadPubmedFixtureRecords();
    expect(records.some((record) => record.kind === 'book')).toBe(true);
    let headings = 0;
    for (const { xml } of records) {
      const stored = storableXml(xml);
      const mesh = (await meshByXpath(stored).execute(database.db)).rows.map((row) => ({ ...row, heading: Number(row.heading) }));
      const citation = (await citationByXpath(stored).execute(database.db)).rows;
      const read = citationRows(stored);
      expect([...read.mesh].sort(byPosition)).toEqual(mesh.sort(byPosition));
      expect(read.citation === null ? [] : [read.citation]).toEqual(citation);
      headings += mesh.length;
    }
    expect(headings).toBeGreaterThan(50);
  });
});
