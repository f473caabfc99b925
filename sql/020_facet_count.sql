-- v_facet_counts counted every facet row of every active record on each query: minutes at
-- millions of records. The counts are kept instead, by statement-level triggers that add up what
-- each load statement changed (its transition tables). A record's facets count while it is active:
-- - its version row says when it starts or stops counting: insert and restore add its facet
--   rows as they stand after the statement, delete (a tombstone, which keeps its facet rows)
--   takes them away;
-- - facet rows added or removed by an update change the counts one by one.
-- A load never waits on a counter another load holds: loads overlap, and the pipeline commits
-- them in order, so a later load waiting on an earlier one's counter row while the earlier one
-- waits for the later one's commit would never end. So a statement appends its changes to
-- facet_count_change (no key, nothing to wait for), and folds every committed change into
-- facet_count when no other transaction is folding (LOCK … NOWAIT; whoever holds the lock folds
-- what is left next time). v_facet_counts adds the few changes not folded yet.

CREATE TABLE IF NOT EXISTS facet_count (
  facet   text NOT NULL,
  value   text NOT NULL,
  records bigint NOT NULL,
  PRIMARY KEY (facet, value)
);

COMMENT ON TABLE facet_count IS 'Active records per facet value as of the last fold of facet_count_change (v_facet_counts adds the changes since).';
COMMENT ON COLUMN facet_count.facet IS 'Facet name, as in record_facet.';
COMMENT ON COLUMN facet_count.value IS 'Facet value, as in record_facet.';
COMMENT ON COLUMN facet_count.records IS 'Active records with that value; 0 once the last one changed or was tombstoned.';

CREATE TABLE IF NOT EXISTS facet_count_change (
  facet   text NOT NULL,
  value   text NOT NULL,
  records bigint NOT NULL
);

COMMENT ON TABLE facet_count_change IS 'Changes to facet_count written by load statements and not folded into it yet.';
COMMENT ON COLUMN facet_count_change.facet IS 'Facet name.';
COMMENT ON COLUMN facet_count_change.value IS 'Facet value.';
COMMENT ON COLUMN facet_count_change.records IS 'Records gained (positive) or lost (negative).';

CREATE INDEX IF NOT EXISTS facet_count_change_value ON facet_count_change (facet, value);

CREATE OR REPLACE FUNCTION pubcat_fold_facet_counts() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE facet_count IN EXCLUSIVE MODE NOWAIT;
  WITH folded AS (DELETE FROM facet_count_change RETURNING facet, value, records)
  INSERT INTO facet_count AS fc (facet, value, records)
  SELECT facet, value, sum(records) FROM folded GROUP BY facet, value
  ON CONFLICT (facet, value) DO UPDATE SET records = fc.records + excluded.records;
EXCEPTION WHEN lock_not_available THEN
  NULL; -- another transaction is folding; it or the next statement folds these changes
END
$$;

COMMENT ON FUNCTION pubcat_fold_facet_counts() IS 'Moves the committed (and own) rows of facet_count_change into facet_count, unless another transaction is doing so.';

CREATE OR REPLACE FUNCTION pubcat_count_version_facets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO facet_count_change (facet, value, records)
  SELECT f.facet, f.value, sum(CASE WHEN v.op = 'delete' THEN -1 ELSE 1 END)
  FROM new_versions v JOIN record_facet f ON f.pmid = v.pmid
  WHERE v.op IN ('insert', 'restore', 'delete')
  GROUP BY f.facet, f.value;
  PERFORM pubcat_fold_facet_counts();
  RETURN NULL;
END
$$;

COMMENT ON FUNCTION pubcat_count_version_facets() IS 'Trigger on catalogue_record_version: counts the facets of records that start (insert, restore) or stop (delete) being active.';

-- Facet rows change one by one only in an update; those of an insert or restore are counted whole
-- by the version trigger.
CREATE OR REPLACE FUNCTION pubcat_count_changed_facets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO facet_count_change (facet, value, records)
  SELECT f.facet, f.value, sum(f.delta)
  FROM (
    SELECT pmid, facet, value, 1 AS delta FROM changed_facets WHERE TG_OP = 'INSERT'
    UNION ALL
    SELECT pmid, facet, value, -1 FROM changed_facets WHERE TG_OP = 'DELETE'
  ) AS f
  JOIN catalogue_record c ON c.pmid = f.pmid
  JOIN catalogue_record_version v ON v.pmid = c.pmid AND v.version = c.version AND v.op = 'update'
  GROUP BY f.facet, f.value;
  RETURN NULL;
END
$$;

COMMENT ON FUNCTION pubcat_count_changed_facets() IS 'Trigger on record_facet: counts facet rows an update added or removed.';

DROP TRIGGER IF EXISTS catalogue_record_version_counted ON catalogue_record_version;
CREATE TRIGGER catalogue_record_version_counted AFTER INSERT ON catalogue_record_version
  REFERENCING NEW TABLE AS new_versions FOR EACH STATEMENT EXECUTE FUNCTION pubcat_count_version_facets();
DROP TRIGGER IF EXISTS record_facet_added ON record_facet;
CREATE TRIGGER record_facet_added AFTER INSERT ON record_facet
  REFERENCING NEW TABLE AS changed_facets FOR EACH STATEMENT EXECUTE FUNCTION pubcat_count_changed_facets();
DROP TRIGGER IF EXISTS record_facet_removed ON record_facet;
CREATE TRIGGER record_facet_removed AFTER DELETE ON record_facet
  REFERENCING OLD TABLE AS changed_facets FOR EACH STATEMENT EXECUTE FUNCTION pubcat_count_changed_facets();

LOCK TABLE record_facet, catalogue_record IN SHARE MODE;
DELETE FROM facet_count;
DELETE FROM facet_count_change;
INSERT INTO facet_count (facet, value, records)
SELECT f.facet, f.value, count(*)
FROM record_facet f JOIN catalogue_record r ON r.pmid = f.pmid AND r.status = 'active'
GROUP BY f.facet, f.value;

-- Grouped by (facet, value), so a filter on the facet reaches both tables' indexes.
CREATE OR REPLACE VIEW v_facet_counts AS
SELECT facet, value, sum(records)::bigint AS records
FROM (
  SELECT facet, value, records FROM facet_count
  UNION ALL
  SELECT facet, value, records FROM facet_count_change
) AS counts
GROUP BY facet, value
HAVING sum(records) > 0;

COMMENT ON VIEW v_facet_counts IS 'How many active records carry each facet value (kept current as records load: reading it counts nothing).';
