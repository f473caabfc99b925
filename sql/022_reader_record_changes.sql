-- pubcat:postgres-only (PGlite has a single user: there is nobody to grant to)
-- pubcat_reader reads v_record_changes like the other views (see 003).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubcat_reader') THEN
    RAISE NOTICE 'pubcat_reader does not exist: v_record_changes not granted';
    RETURN;
  END IF;
  GRANT SELECT ON v_record_changes TO pubcat_reader;
END
$$;
