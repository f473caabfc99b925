-- Processes now reserve a few consecutive starts at once (about a second's worth at most), each
-- when the budget's next free start is near rather than free now, so next_slot is the start after
-- the last one reserved.

COMMENT ON COLUMN ncbi_start_slot.next_slot IS 'Earliest time the next request may start: the last start reserved (by any process, up to about a second ahead) plus its spacing (1 / PUBCAT_MAX_RPS, a little more), or the end of a pause after a 429. A process reserves only when this is at most a few round trips to the database away; a time in the past means the budget is idle.';
