/**
 * The two statements that load a batch (see upsert.ts for the rules). The first sends only
 * PMIDs and hashes, and settles the records that did not change, usually most of them; the
 * second sends the whole of the others. Each batch travels as a single jsonb parameter expanded
 * by jsonb_to_recordset, which carries the per-record facet arrays that `unnest` cannot, and
 * never nears the 65,535 bind-parameter limit.
 *
 * All sub-statements of the write share one snapshot, so what `classified` reads is the state
 * before the statement. A write is made only if the row still has the version that snapshot
 * read (`c.version = excluded.version - 1`, evaluated on the latest row once its lock is ours);
 * the check-time bumps re-check the hash on the latest row the same way. A record that fails
 * either check was changed by a concurrent loader after the snapshot: it is returned with no
 * outcome, and the caller runs it again in a new statement (a new snapshot).
 */
import { sql, type Transaction } from 'kysely';
import type { CatalogueRecord, DerivedFields, FacetRow } from '../transform/types.js';
import type { Database } from './schema.js';

export interface UpsertRow {
  /** Place in the batch: of two records claiming one catalogue id, the first gets it. */
  position: number;
  pmid: number;
  catalogue_id: string;
  content_hash: string;
  record: CatalogueRecord;
  derived: DerivedFields;
  title: string;
  journal: string | null;
  publish_year: number | null;
  doi: string | null;
  pmcid: string | null;
  facets: FacetRow[];
  pubmed_xml: string;
  pmc_article_xml: string | null;
  pmc_summary_xml: string | null;
}

export interface RowResult {
  /** Undefined when the record was not written: see `idHolder`, else overtaken by another loader. */
  outcome?: 'inserted' | 'updated' | 'unchanged' | 'restored';
  /** The other PMID that holds (or, earlier in the batch, claims) this record's catalogue id. */
  idHolder?: number;
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
export async function touchUnchanged(trx: Transaction<Database>, rows: readonly UpsertRow[]): Promise<Set<number>> {
  const keys = rows.map((row) => ({ pmid: row.pmid, content_hash: row.content_hash }));
  const { rows: unchanged } = await sql<{ pmid: number | string }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS t(pmid bigint, content_hash text)
    ),
    misses_ended AS (
      UPDATE missing_pmid m SET consecutive_misses = 0
      FROM input i WHERE m.pmid = i.pmid AND m.consecutive_misses > 0
    )
    UPDATE catalogue_record c SET last_checked_at = now()
    FROM input i
    WHERE c.pmid = i.pmid AND c.content_hash = i.content_hash AND c.status = 'active'
    RETURNING c.pmid
  `.execute(trx);
  return new Set(unchanged.map((row) => Number(row.pmid)));
}

/** Writes the records that are new, changed or restored (see the module comment for races). */
export async function runUpsertStatement(
  trx: Transaction<Database>,
  rows: readonly UpsertRow[],
  runId: number,
): Promise<Map<number, RowResult>> {
  const { rows: results } = await sql<ResultRow>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS t(
        position int, pmid bigint, catalogue_id text, content_hash text, record jsonb, derived jsonb,
        title text, journal text, publish_year int, doi text, pmcid text, facets jsonb,
        pubmed_xml text, pmc_article_xml text, pmc_summary_xml text)
    ),
    classified AS (
      SELECT i.*, e.version AS old_version, holder.pmid AS id_holder,
        CASE WHEN e.pmid IS NULL THEN 'insert'
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
      SELECT *, first_value(pmid) OVER (PARTITION BY catalogue_id ORDER BY position) AS first_claimant
      FROM classified WHERE op <> 'unchanged' AND id_holder IS NULL
    ),
    to_write AS (
      SELECT * FROM claims WHERE first_claimant = pmid
    ),
    written AS (
      INSERT INTO catalogue_record AS c (pmid, catalogue_id, version, status, content_hash, record, derived,
        title, journal, publish_year, doi, pmcid, last_run_id)
      SELECT pmid, catalogue_id, coalesce(old_version, 0) + 1, 'active', content_hash, record, derived,
        title, journal, publish_year, doi, pmcid, ${runId}
      FROM to_write
      ON CONFLICT (pmid) DO UPDATE SET
        catalogue_id = excluded.catalogue_id, version = excluded.version, status = 'active',
        content_hash = excluded.content_hash, record = excluded.record, derived = excluded.derived,
        title = excluded.title, journal = excluded.journal, publish_year = excluded.publish_year,
        doi = excluded.doi, pmcid = excluded.pmcid, last_changed_at = now(), last_checked_at = now(),
        last_run_id = excluded.last_run_id
      WHERE c.version = excluded.version - 1
      RETURNING c.pmid
    ),
    written_rows AS (
      SELECT t.* FROM to_write t JOIN written USING (pmid)
    ),
    history AS (
      INSERT INTO catalogue_record_version (pmid, version, op, run_id, changed_fields, catalogue_id, content_hash, record)
      SELECT w.pmid, coalesce(w.old_version, 0) + 1, w.op, ${runId},
        CASE WHEN w.op = 'insert' THEN '{}'::text[] ELSE ARRAY(
          SELECT field FROM (
            SELECT 1 AS part, key AS field FROM (
              SELECT jsonb_object_keys(w.record) UNION SELECT jsonb_object_keys(old.record)) AS k(key)
            WHERE w.record -> key IS DISTINCT FROM old.record -> key
            UNION ALL
            SELECT 2, 'derived.' || key FROM (
              SELECT jsonb_object_keys(w.derived) UNION SELECT jsonb_object_keys(old.derived)) AS k(key)
            WHERE w.derived -> key IS DISTINCT FROM old.derived -> key
          ) AS changed ORDER BY part, field COLLATE "C")
        END,
        w.catalogue_id, w.content_hash, w.record
      FROM written_rows w
      -- The snapshot's row: the version this write replaced (the version check proved it).
      LEFT JOIN catalogue_record old ON old.pmid = w.pmid AND w.op <> 'insert'
    ),
    new_facets AS (
      SELECT w.pmid, w.op, f.facet, f.value
      FROM written_rows w CROSS JOIN jsonb_to_recordset(w.facets) AS f(facet text, value text)
    ),
    facets_removed AS (
      DELETE FROM record_facet rf USING written_rows w
      WHERE rf.pmid = w.pmid AND w.op <> 'insert'
        AND NOT EXISTS (SELECT 1 FROM new_facets n WHERE n.pmid = rf.pmid AND n.facet = rf.facet AND n.value = rf.value)
    ),
    facets_added AS (
      -- Facets the previous version had too are kept as they are (the conflict does nothing).
      INSERT INTO record_facet (pmid, facet, value)
      SELECT pmid, facet, value FROM new_facets
      ON CONFLICT DO NOTHING
    ),
    sources_written AS (
      INSERT INTO record_source (pmid, pubmed_xml, pmc_article_xml, pmc_summary_xml)
      SELECT pmid, pubmed_xml, pmc_article_xml, pmc_summary_xml FROM written_rows
      ON CONFLICT (pmid) DO UPDATE SET pubmed_xml = excluded.pubmed_xml,
        pmc_article_xml = excluded.pmc_article_xml, pmc_summary_xml = excluded.pmc_summary_xml,
        fetched_at = now()
    ),
    checked AS (
      UPDATE catalogue_record c SET last_checked_at = now()
      FROM classified k
      WHERE k.op = 'unchanged' AND c.pmid = k.pmid AND c.content_hash = k.content_hash AND c.status = 'active'
      RETURNING c.pmid
    )
    SELECT k.pmid,
      CASE WHEN checked.pmid IS NOT NULL THEN 'unchanged'
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
