-- pubcat:postgres-only (PGlite has a single user: there is nobody to keep out)
-- Every role may by default take advisory locks, create temporary tables and create large objects
-- in any database it can connect to: pubcat_reader, meant to read the views and nothing else,
-- could fill the server's lock table or its disk. These grants belong to PUBLIC, so they are
-- revoked from PUBLIC, in this database only (other databases on the server keep their own).
--
-- pubcat itself needs none of them: it takes its locks on its own tables (LOCK TABLE, which
-- pubcat_reader has no privilege for), so nothing is granted back. A superuser keeps them all
-- whatever this says, and the database's owner its temporary tables.
--
-- Only a superuser may change the grants of the pg_catalog functions, and only a superuser or the
-- database's owner those of the database: a migrating role that may not is told so in a notice,
-- and a database administrator can run this file again by hand.

DO $$
DECLARE
  is_superuser boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
  owns_database boolean := (
    SELECT pg_has_role(current_user, datdba, 'USAGE') FROM pg_database WHERE datname = current_database()
  );
BEGIN
  IF is_superuser THEN
    REVOKE EXECUTE ON FUNCTION
      pg_advisory_lock(bigint), pg_advisory_lock(integer, integer),
      pg_advisory_lock_shared(bigint), pg_advisory_lock_shared(integer, integer),
      pg_advisory_xact_lock(bigint), pg_advisory_xact_lock(integer, integer),
      pg_advisory_xact_lock_shared(bigint), pg_advisory_xact_lock_shared(integer, integer),
      pg_try_advisory_lock(bigint), pg_try_advisory_lock(integer, integer),
      pg_try_advisory_lock_shared(bigint), pg_try_advisory_lock_shared(integer, integer),
      pg_try_advisory_xact_lock(bigint), pg_try_advisory_xact_lock(integer, integer),
      pg_try_advisory_xact_lock_shared(bigint), pg_try_advisory_xact_lock_shared(integer, integer)
    FROM PUBLIC;
    -- lo_import and lo_export, which touch the server's files, are the superuser's alone already.
    REVOKE EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea) FROM PUBLIC;
  ELSE
    RAISE NOTICE 'advisory locks and large objects left open to every role: % is not a superuser', current_user;
  END IF;

  IF is_superuser OR owns_database THEN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  ELSE
    RAISE NOTICE 'temporary tables left open to every role: % does not own database %', current_user, current_database();
  END IF;
END
$$;
