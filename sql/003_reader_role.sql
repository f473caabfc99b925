-- pubcat:postgres-only (PGlite has a single user: there is nobody to grant to)
-- A read-only role for analysts: SELECT on the views, nothing on the tables. It is created when
-- the migrating user may create roles; otherwise the grants are skipped with a notice and a
-- database administrator can create the role and run this file again by hand.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubcat_reader') THEN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
      RAISE NOTICE 'pubcat_reader not created: % may not create roles', current_user;
      RETURN;
    END IF;
    BEGIN
      CREATE ROLE pubcat_reader LOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created by a concurrent migration of another database on the same server
    END;
  END IF;
  GRANT SELECT ON v_record, v_facet_counts, v_record_history, v_runs TO pubcat_reader;
END
$$;
