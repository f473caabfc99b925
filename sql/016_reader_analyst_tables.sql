-- pubcat:postgres-only (PGlite has a single user: there is nobody to grant to)
-- pubcat_reader reads the tables analysts filter and join on, not only the views: facet rows,
-- MeSH headings and citation details. The bookkeeping tables stay closed to it. Skipped with a
-- notice where the role does not exist (see 003).

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubcat_reader') THEN
    RAISE NOTICE 'pubcat_reader does not exist: analyst tables not granted';
    RETURN;
  END IF;
  GRANT SELECT ON record_facet, record_mesh, record_citation TO pubcat_reader;
END
$$;
