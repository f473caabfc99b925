-- What changed in each version, field by field, with the value before and after; and
-- changed_fields named by the record's own fields. The record carries Solr's copies of some
-- fields (title_short … title_sort of title, author_facet and author_sort of author, spelling
-- and spellingShingle of nearly everything, work_keys_str_mv of title and authors): one changed
-- title changed nine fields. A copy is left out when a field it is copied from changed too; a
-- copy that changed alone (a new sort rule, a new OAI datestamp in spelling) is named itself.

CREATE OR REPLACE FUNCTION pubcat_record_fields(changed text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(c.field ORDER BY c.position), '{}')
  FROM unnest(changed) WITH ORDINALITY AS c(field, position)
  WHERE NOT EXISTS (
    SELECT 1
    FROM (VALUES
      ('title_short', 'title'), ('title_full', 'title'), ('title_fullStr', 'title'),
      ('title_full_unstemmed', 'title'), ('title_sort', 'title'),
      ('author_facet', 'author'), ('author_sort', 'author'),
      ('work_keys_str_mv', 'title'), ('work_keys_str_mv', 'author'),
      ('spellingShingle', 'title'), ('spellingShingle', 'author'), ('spellingShingle', 'topic'),
      ('spelling', 'id'), ('spelling', 'title'), ('spelling', 'author'), ('spelling', 'topic'),
      ('spelling', 'description'), ('spelling', 'publisher'), ('spelling', 'publishDate'),
      ('spelling', 'url'), ('spelling', 'language')
    ) AS copy(field, source)
    WHERE copy.field = c.field AND copy.source = ANY (changed)
  )
$$;

COMMENT ON FUNCTION pubcat_record_fields(text[]) IS 'Changed field names without the Solr copies (title_short, author_facet, spelling, …) of a field that changed too.';

CREATE OR REPLACE VIEW v_record_changes AS
SELECT
  v.pmid,
  v.version,
  v.op,
  v.changed_at,
  v.run_id,
  c.field,
  previous.record -> c.field AS old_value,
  v.record -> c.field AS new_value
FROM catalogue_record_version v
JOIN catalogue_record_version previous ON previous.pmid = v.pmid AND previous.version = v.version - 1
CROSS JOIN LATERAL unnest(pubcat_record_fields(v.changed_fields)) WITH ORDINALITY AS c(field, position)
WHERE v.op IN ('update', 'restore');

COMMENT ON VIEW v_record_changes IS 'One row per changed field of each version (update or restore), with its value in the version before and in this one.';
COMMENT ON COLUMN v_record_changes.pmid IS 'PubMed identifier.';
COMMENT ON COLUMN v_record_changes.version IS 'The version that made the change (the value before is version - 1''s).';
COMMENT ON COLUMN v_record_changes.op IS 'update | restore.';
COMMENT ON COLUMN v_record_changes.changed_at IS 'When the change was committed.';
COMMENT ON COLUMN v_record_changes.run_id IS 'The run that made the change.';
COMMENT ON COLUMN v_record_changes.field IS 'A record field (title, author, description, …), or derived.<name> for a derived field (container_issue, topic_facet, …).';
COMMENT ON COLUMN v_record_changes.old_value IS 'The field''s JSON value before; null when the field was absent, and for derived.* fields, whose earlier values history does not keep.';
COMMENT ON COLUMN v_record_changes.new_value IS 'The field''s JSON value after; null when the field was removed, and for derived.* fields (catalogue_record.derived holds the current ones).';
