-- A sync run works through every saved search in turn. Its checkpoint (an input position, written
-- with each loaded batch) only means something together with the search it counts in and that
-- search's window; the stage says which, so a resumed run never applies a position to the wrong
-- search or to a window that has moved since.

ALTER TABLE etl_run ADD COLUMN stage jsonb;

COMMENT ON COLUMN etl_run.stage IS 'For a run made of parts (sync: one per saved search), where it stands: the parts done, and the part in progress that checkpoint.position counts within (with the window it searched). Null for single-part runs.';
