-- NCBI counts request starts per API key (or, without one, per address), not per process. Every
-- pubcat process on this database takes each start from its budget's row here, so together they
-- stay under PUBCAT_MAX_RPS however many run. A start is taken only when it is free now (one
-- UPDATE, timed by the database's clock), so a process that dies holds nothing: the next start
-- is free at most one spacing later. The embedded database has one process and leaves it empty.
-- Only pubcat itself reads or writes it: pubcat_reader has no grant on it.

CREATE TABLE IF NOT EXISTS ncbi_start_slot (
  budget       text PRIMARY KEY,
  next_slot    timestamptz NOT NULL DEFAULT now(),
  paused_until timestamptz
);

COMMENT ON TABLE ncbi_start_slot IS 'One row per NCBI start-rate budget (E-utilities host and API key): when the next request start is free for any pubcat process using this database.';
COMMENT ON COLUMN ncbi_start_slot.budget IS 'What NCBI counts starts against: the E-utilities origin, then "without key" or "key" and a 12-hex-digit SHA-256 fingerprint of the API key (never the key itself).';
COMMENT ON COLUMN ncbi_start_slot.next_slot IS 'Earliest time the next request may start: the last start plus its spacing (1 / PUBCAT_MAX_RPS, a little more), or the end of a pause after a 429. A time in the past means a start is free now.';
COMMENT ON COLUMN ncbi_start_slot.paused_until IS 'End of the latest pause a 429 from NCBI caused (its Retry-After); null if NCBI never refused a start on this budget.';
