/**
 * The two statements that load a batch (see upsert.ts for the rules). The first sends only
 * PMIDs and hashes, and settles the records that did not change, usually most of them; the
 * second sends the whole of the others. A batch travels as parallel arrays, one per column,
 * that `unnest` turns back into rows (array-params.ts says how they are sent); facets, source
 * XML, MeSH headings and citation details come as arrays of their own and join the records that
 * were written, so the large values are read once and never carried through the statement's
 * intermediate steps.
 *
 * All sub-statements of the write share one snapshot, so what `classified` reads is the state
 * before the statement. A write is made only if the row still has the version that snapshot
 * read (`c.version = excluded.version - 1`, evaluated on the latest row once its lock is ours);
 * the check-time bumps re-check the hash on the latest row the same way. A record that fails
 * either check was changed by a concurrent loader after the snapshot: it is returned with no
 * outcome, and the caller runs it again in a new statement (a new snapshot).
 *
 * Records from a bulk file carry the file's place in NCBI's order (`importOrder`): one older than
 * what is stored — from a later file, or, against a record E-utilities brought, revised earlier —
 * is classified `older` and not written. The check reads the same snapshot as the version check,
 * so a later file's record committed meanwhile is seen when the record's statement runs again.
 *
 * Records rebuilt from stored XML (retransform, enrich) carry the version their record had when
 * the XML was read (`versionsRead`). A record at another version now was changed by another loader
 * since, from newer XML than the rebuild's: the rebuilt row is classified `older`, not written.
 */
import { sql, type Transaction } from 'kysely';
import { bigintArray, intArray, textArray } from './array-params.js';
import type { Backend } from './db.js';
import type { Database } from './schema.js';
import type { UpsertRow } from './upsert-row.js';

export interface RowResult {
  /** Undefined when the record was not written: see `idHolder`, else overtaken by another loader. */
  outcome?: 'inserted' | 'updated' | 'unchanged' | 'restored' | 'older';
  /** The other PMID that holds (or, earlier in the batch, claims) this record's catalogue id. */
  idHolder?: number;
}

/** Where the rows of a statement come from, as far as the order of sources goes. */
export interface RowOrigin {
  /** import_file.import_order of the bulk file the rows come from; absent for E-utilities. */
  importOrder?: number;
  /** Rebuilt from stored XML: the record keeps the import_order it has. */
  rebuilt?: boolean;
  /** Rebuilt from stored XML: each record's version when the XML was read. */
  versionsRead?: ReadonlyMap<number, number>;
}

interface ResultRow {
  pmid: number | string;
  outcome: RowResult['outcome'] | null;
  id_holder: number | string | null;
}

/**
 * Moves last_checked_at of the records whose content is unchanged, ends the miss streak of every
 * PMID in the batch (NCBI returned it), and returns the unchanged PMIDs: nothing else of theirs
 * needs to be sent or written.
 */
export async function touchUnchanged(trx: Transaction<Database>, backend: Backend, rows: readonly UpsertRow[], origin: RowOrigin = {}): Promise<Set<number>> {
  const pmids = bigintArray(backend, rows.map((row) => row.pmid));
  const hashes = textArray(backend, rows.map((row) => row.content_hash));
  const versions = intArray(backend, rows.map((row) => row.transform_version));
  const { rows: unchanged } = await sql<{ pmid: number | string }>`
    WITH input AS (
      SELECT * FROM unnest(${pmids}::bigint[], ${hashes}::text[], ${versions}::int[]) AS t(pmid, content_hash, transform_version)
    ),
    misses_ended AS (
      UPDATE missing_pmid m SET consecutive_misses = 0
      FROM input i WHERE m.pmid = i.pmid AND m.consecutive_misses > 0
    )
    UPDATE catalogue_record c SET last_checked_at = now(), transform_version = i.transform_version
      -- A later file bringing the same record moves it to that file's place in the order.
      ${origin.importOrder === undefined ? sql`` : sql`, import_order = greatest(c.import_order, ${origin.importOrder}::int)`}
    FROM input i
    WHERE c.pmid = i.pmid AND c.content_hash = i.content_hash AND c.status = 'active'
    RETURNING c.pmid
  `.execute(trx);
  return new Set(unchanged.map((row) => Number(row.pmid)));
}

/** Writes the records that are new, changed or restored (see the module comment for races). */
export async function runUpsertStatement(
  trx: Transaction<Database>,
  backend: Backend,
  rows: readonly UpsertRow[],
  runId: number,
  origin: RowOrigin = {},
): Promise<Map<number, RowResult>> {
  const importOrder = origin.importOrder ?? null;
  const versionsRead = intArray(backend, rows.map((row) => origin.versionsRead?.get(row.pmid) ?? null));
  const texts = (column: (row: UpsertRow) => string | null) => textArray(backend, rows.map(column));
  const pmids = bigintArray(backend, rows.map((row) => row.pmid));
  // Facet and MeSH columns of the whole batch, each row's PMID repeated for each of its rows.
  const facetPmids = rows.flatMap((row) => row.facet_names.map(() => row.pmid));
  const meshPmids = rows.flatMap((row) => row.mesh.heading.map(() => row.pmid));
  const meshTexts = (column: 'descriptor' | 'descriptor_ui' | 'qualifier' | 'qualifier_ui') => textArray(backend, rows.flatMap((row) => row.mesh[column]));
  const citations = rows.flatMap((row) => (row.citation === null ? [] : [{ pmid: row.pmid, citation: row.citation }]));
  const { rows: results } = await sql<ResultRow>`
    WITH input AS (
      SELECT pmid, catalogue_id, content_hash, record::jsonb AS record, derived::jsonb AS derived,
        title, journal, publish_year, doi, pmcid, transform_version, pubmed_revised::date AS pubmed_revised, version_read, position
      FROM unnest(${pmids}::bigint[], ${texts((row) => row.catalogue_id)}::text[], ${texts((row) => row.content_hash)}::text[],
        ${texts((row) => row.record_json)}::text[], ${texts((row) => row.derived_json)}::text[], ${texts((row) => row.title)}::text[],
        ${texts((row) => row.journal)}::text[], ${intArray(backend, rows.map((row) => row.publish_year))}::int[],
        ${texts((row) => row.doi)}::text[], ${texts((row) => row.pmcid)}::text[],
        ${intArray(backend, rows.map((row) => row.transform_version))}::int[], ${texts((row) => row.pubmed_revised)}::text[],
        ${versionsRead}::int[])
        WITH ORDINALITY AS t(pmid, catalogue_id, content_hash, record, derived, title, journal, publish_year, doi, pmcid,
          transform_version, pubmed_revised, version_read, position)
    ),
    -- From here to the writes only keys travel; the writes join input for the values.
    classified AS (
      SELECT i.position, i.pmid, i.catalogue_id, i.content_hash, e.version AS old_version, holder.pmid AS id_holder,
        CASE WHEN i.version_read IS NOT NULL AND e.version IS DISTINCT FROM i.version_read THEN 'older'
             WHEN e.pmid IS NULL THEN 'insert'
             WHEN ${importOrder}::int IS NOT NULL
               AND (e.import_order > ${importOrder}::int
                 OR (e.import_order IS NULL AND e.status = 'active' AND e.pubmed_revised > i.pubmed_revised)) THEN 'older'
             WHEN e.status = 'deleted' THEN 'restore'
             WHEN e.content_hash = i.content_hash THEN 'unchanged'
             ELSE 'update' END AS op
      FROM input i
      LEFT JOIN catalogue_record e ON e.pmid = i.pmid
      -- Only a record taking a new catalogue id can collide with another PMID's.
      LEFT JOIN catalogue_record holder
        ON holder.catalogue_id = i.catalogue_id AND holder.pmid <> i.pmid
        AND e.catalogue_id IS DISTINCT FROM i.catalogue_id
    ),
    claims AS (
      -- Of two records claiming one catalogue id, the first in the batch gets it.
      SELECT *, first_value(pmid) OVER (PARTITION BY catalogue_id ORDER BY position) AS first_claimant
      FROM classified WHERE op NOT IN ('unchanged', 'older') AND id_holder IS NULL
    ),
    to_write AS (
      SELECT * FROM claims WHERE first_claimant = pmid
    ),
    written AS (
      INSERT INTO catalogue_record AS c (pmid, catalogue_id, version, status, content_hash, record, derived,
        title, journal, publish_year, doi, pmcid, last_run_id, transform_version, pubmed_revised, import_order)
      SELECT i.pmid, i.catalogue_id, coalesce(t.old_version, 0) + 1, 'active', i.content_hash, i.record, i.derived,
        i.title, i.journal, i.publish_year, i.doi, i.pmcid, ${runId}, i.transform_version, i.pubmed_revised, ${importOrder}::int
      FROM to_write t JOIN input i USING (pmid)
      ON CONFLICT (pmid) DO UPDATE SET
        catalogue_id = excluded.catalogue_id, version = excluded.version, status = 'active',
        content_hash = excluded.content_hash, record = excluded.record, derived = excluded.derived,
        title = excluded.title, journal = excluded.journal, publish_year = excluded.publish_year,
        doi = excluded.doi, pmcid = excluded.pmcid, last_changed_at = now(), last_checked_at = now(),
        last_run_id = excluded.last_run_id, transform_version = excluded.transform_version, pubmed_revised = excluded.pubmed_revised,
        import_order = ${origin.rebuilt === true ? sql`c.import_order` : sql`excluded.import_order`}
      WHERE c.version = excluded.version - 1
      RETURNING c.pmid
    ),
    written_rows AS (
      SELECT t.pmid, t.op, t.old_version, t.catalogue_id, t.content_hash, i.record, i.derived
      FROM to_write t JOIN written USING (pmid) JOIN input i USING (pmid)
    ),
    -- The version this write replaces keeps its record in history from now on; the new version's
    -- own is catalogue_record's (sql/027). The snapshot's row still holds the replaced record.
    superseded AS (
      UPDATE catalogue_record_version v SET record = old.record
      FROM written_rows w JOIN catalogue_record old ON old.pmid = w.pmid
      WHERE w.op <> 'insert' AND v.pmid = w.pmid AND v.version = w.old_version AND v.record IS NULL
    ),
    history AS (
      INSERT INTO catalogue_record_version (pmid, version, op, run_id, changed_fields, catalogue_id, content_hash)
      SELECT w.pmid, coalesce(w.old_version, 0) + 1, w.op, ${runId},
        -- Named by the record's fields: a copy (title_sort, spelling, …) of a changed field is left out.
        CASE WHEN w.op = 'insert' THEN '{}'::text[] ELSE pubcat_record_fields(ARRAY(
          SELECT field FROM (
            SELECT 1 AS part, key AS field FROM (
              SELECT jsonb_object_keys(w.record) UNION SELECT jsonb_object_keys(old.record)) AS k(key)
            WHERE w.record -> key IS DISTINCT FROM old.record -> key
            UNION ALL
            SELECT 2, 'derived.' || key FROM (
              SELECT jsonb_object_keys(w.derived) UNION SELECT jsonb_object_keys(old.derived)) AS k(key)
            WHERE w.derived -> key IS DISTINCT FROM old.derived -> key
          ) AS changed ORDER BY part, field COLLATE "C"))
        END,
        w.catalogue_id, w.content_hash
      FROM written_rows w
      -- The snapshot's row: the version this write replaced (the version check proved it).
      LEFT JOIN catalogue_record old ON old.pmid = w.pmid AND w.op <> 'insert'
    ),
    new_facets AS (
      SELECT f.pmid, w.op, f.facet, f.value
      FROM unnest(${bigintArray(backend, facetPmids)}::bigint[],
        ${textArray(backend, rows.flatMap((row) => row.facet_names))}::text[],
        ${textArray(backend, rows.flatMap((row) => row.facet_values))}::text[]) AS f(pmid, facet, value)
      JOIN written_rows w USING (pmid)
    ),
    facets_removed AS (
      DELETE FROM record_facet rf USING written_rows w
      WHERE rf.pmid = w.pmid AND w.op <> 'insert'
        AND NOT EXISTS (SELECT 1 FROM new_facets n WHERE n.pmid = rf.pmid AND n.facet = rf.facet AND n.value = rf.value)
    ),
    facets_of_new AS (
      -- A new PMID has no facet rows yet, and its values are distinct: no conflict to check for.
      INSERT INTO record_facet (pmid, facet, value)
      SELECT pmid, facet, value FROM new_facets WHERE op = 'insert'
    ),
    facets_added AS (
      -- Facets the previous version had too are kept as they are (the conflict does nothing).
      INSERT INTO record_facet (pmid, facet, value)
      SELECT pmid, facet, value FROM new_facets WHERE op <> 'insert'
      ON CONFLICT DO NOTHING
    ),
    sources_written AS (
      INSERT INTO record_source (pmid, pubmed_xml, pmc_article_xml, pmc_summary_xml)
      SELECT s.pmid, s.pubmed_xml, s.pmc_article_xml, s.pmc_summary_xml
      FROM unnest(${pmids}::bigint[], ${texts((row) => row.pubmed_xml)}::text[], ${texts((row) => row.pmc_article_xml)}::text[],
        ${texts((row) => row.pmc_summary_xml)}::text[]) AS s(pmid, pubmed_xml, pmc_article_xml, pmc_summary_xml)
      JOIN written USING (pmid)
      ON CONFLICT (pmid) DO UPDATE SET pubmed_xml = excluded.pubmed_xml,
        pmc_article_xml = excluded.pmc_article_xml, pmc_summary_xml = excluded.pmc_summary_xml,
        fetched_at = now()
      -- The same XML again (a record rebuilt by a new transform, or changed by its PMC parts
      -- alone) is not rewritten, nor is what is read from it.
      WHERE (record_source.pubmed_xml, record_source.pmc_article_xml, record_source.pmc_summary_xml)
        IS DISTINCT FROM (excluded.pubmed_xml, excluded.pmc_article_xml, excluded.pmc_summary_xml)
      RETURNING pmid
    ),
    -- MeSH headings and citation details come from the PubMed XML (citation-rows.ts): they are
    -- rewritten when it is.
    mesh_removed AS (
      DELETE FROM record_mesh m USING sources_written s WHERE m.pmid = s.pmid
    ),
    mesh_added AS (
      INSERT INTO record_mesh (pmid, heading, descriptor, descriptor_ui, qualifier, qualifier_ui, major_topic)
      SELECT m.pmid, m.heading, m.descriptor, m.descriptor_ui, m.qualifier, m.qualifier_ui, m.major_topic <> 0
      FROM unnest(${bigintArray(backend, meshPmids)}::bigint[],
        ${intArray(backend, rows.flatMap((row) => row.mesh.heading))}::int[],
        ${meshTexts('descriptor')}::text[], ${meshTexts('descriptor_ui')}::text[],
        ${meshTexts('qualifier')}::text[], ${meshTexts('qualifier_ui')}::text[],
        ${intArray(backend, rows.flatMap((row) => row.mesh.major_topic.map((major) => (major ? 1 : 0))))}::int[])
        AS m(pmid, heading, descriptor, descriptor_ui, qualifier, qualifier_ui, major_topic)
      JOIN sources_written USING (pmid)
    ),
    citations AS (
      SELECT * FROM unnest(${bigintArray(backend, citations.map((row) => row.pmid))}::bigint[],
        ${textArray(backend, citations.map((row) => row.citation.journal_abbreviation))}::text[],
        ${textArray(backend, citations.map((row) => row.citation.pages))}::text[]) AS c(pmid, journal_abbreviation, pages)
    ),
    citation_written AS (
      INSERT INTO record_citation AS rc (pmid, journal_abbreviation, pages)
      SELECT c.pmid, c.journal_abbreviation, c.pages FROM citations c JOIN sources_written USING (pmid)
      ON CONFLICT (pmid) DO UPDATE SET journal_abbreviation = excluded.journal_abbreviation, pages = excluded.pages
      WHERE (rc.journal_abbreviation, rc.pages) IS DISTINCT FROM (excluded.journal_abbreviation, excluded.pages)
    ),
    citation_removed AS (
      DELETE FROM record_citation rc USING sources_written s
      WHERE rc.pmid = s.pmid AND NOT EXISTS (SELECT 1 FROM citations c WHERE c.pmid = s.pmid)
    ),
    checked AS (
      UPDATE catalogue_record c SET last_checked_at = now()
      FROM classified k
      WHERE k.op = 'unchanged' AND c.pmid = k.pmid AND c.content_hash = k.content_hash AND c.status = 'active'
      RETURNING c.pmid
    )
    SELECT k.pmid,
      CASE WHEN checked.pmid IS NOT NULL THEN 'unchanged'
           WHEN k.op = 'older' THEN 'older'
           WHEN written.pmid IS NOT NULL THEN
             CASE k.op WHEN 'insert' THEN 'inserted' WHEN 'update' THEN 'updated' ELSE 'restored' END
      END AS outcome,
      coalesce(k.id_holder, CASE WHEN claims.first_claimant <> k.pmid THEN claims.first_claimant END) AS id_holder
    FROM classified k
    LEFT JOIN claims USING (pmid)
    LEFT JOIN written USING (pmid)
    LEFT JOIN checked USING (pmid)
  `.execute(trx);

  return new Map(
    results.map((row): [number, RowResult] => [
      Number(row.pmid),
      {
        ...(row.outcome === null ? {} : { outcome: row.outcome }),
        ...(row.id_holder === null ? {} : { idHolder: Number(row.id_holder) }),
      },
    ]),
  );
}
