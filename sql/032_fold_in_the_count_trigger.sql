-- The facet-count trigger folds facet_count_change itself since 030: the separate fold is unused.

DROP FUNCTION IF EXISTS pubcat_fold_facet_counts();
