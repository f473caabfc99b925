-- "Records with facet value X" reads the PMIDs from the (facet, value) index alone (an index-only
-- scan) instead of visiting each facet row's heap page: the index carries the PMID. It has as
-- many entries as before, so a load writes no more index entries than it did.

DROP INDEX IF EXISTS record_facet_lookup;
CREATE INDEX record_facet_lookup ON record_facet (facet, value) INCLUDE (pmid);
