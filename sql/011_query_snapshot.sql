-- A backfill of a PubMed query loads the hits in the order esearch lists them, and its checkpoint
-- is a position in that list. PubMed's list moves as records are added (newest first), so a run
-- that searched again on resume would apply its position to a different list and skip hits. The
-- list is therefore stored with the run, in chunks as esearch pages arrive, and a resumed run
-- reads it back. A query can have millions of hits: one row per 10,000 PMIDs keeps that to a few
-- hundred rows per million hits, read and written one chunk at a time.

CREATE TABLE query_snapshot (
  run_id        bigint PRIMARY KEY REFERENCES etl_run (id) ON DELETE CASCADE,
  hits          integer CHECK (hits >= 0),
  completed_at  timestamptz,
  CHECK ((hits IS NULL) = (completed_at IS NULL))
);

COMMENT ON TABLE query_snapshot IS 'The frozen hit list of a backfill --query run, kept while the run can still be resumed (dropped once it finished).';
COMMENT ON COLUMN query_snapshot.run_id IS 'The backfill run whose query this is.';
COMMENT ON COLUMN query_snapshot.hits IS 'PMIDs in the list, once it is complete; null while esearch is still listing them.';
COMMENT ON COLUMN query_snapshot.completed_at IS 'When the last esearch page was stored; until then a resumed run keeps the chunks stored and lists the rest again.';

CREATE TABLE query_snapshot_chunk (
  run_id  bigint NOT NULL REFERENCES query_snapshot (run_id) ON DELETE CASCADE,
  chunk   integer NOT NULL CHECK (chunk >= 0),
  pmids   bigint[] NOT NULL,
  PRIMARY KEY (run_id, chunk)
);

COMMENT ON TABLE query_snapshot_chunk IS 'The PMIDs of a query_snapshot in esearch order, in consecutive chunks; a PMID appears once per snapshot.';
COMMENT ON COLUMN query_snapshot_chunk.run_id IS 'The snapshot (run) the chunk belongs to.';
COMMENT ON COLUMN query_snapshot_chunk.chunk IS 'Chunk number from 0; the list is the chunks in this order.';
COMMENT ON COLUMN query_snapshot_chunk.pmids IS 'Up to 10,000 PMIDs, in the order esearch listed them.';
