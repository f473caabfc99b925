-- "Records with MeSH term X" reads the PMIDs from the descriptor index alone (an index-only scan)
-- instead of visiting each heading row: the index carries the PMID.

DROP INDEX IF EXISTS record_mesh_descriptor;
CREATE INDEX record_mesh_descriptor ON record_mesh (descriptor, qualifier) INCLUDE (pmid, major_topic);
