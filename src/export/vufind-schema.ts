/**
 * The fields of VuFind's Solr `biblio` core, from `solr/vufind/biblio/conf/schema.xml` of VuFind
 * 10 (vufind-org/vufind at 7e2c4886cceef9b460e2c997b189442145c03a22, the schema that names the
 * record driver field `record_format`). A document sent to the core carries only declared fields:
 * Solr rejects any other. The copyField targets are left out too: Solr fills them from their
 * sources, and a value sent as well would be indexed twice.
 */

/** `<field name="…">` of the schema, copyField targets included. */
const DECLARED_FIELDS = [
  '_version_', 'id', 'fullrecord', 'marc_error', 'allfields', 'allfields_unstemmed', 'fulltext', 'fulltext_unstemmed',
  'spelling', 'spellingShingle', 'institution', 'collection', 'building', 'language', 'format', 'author',
  'author_variant', 'author_role', 'author_facet', 'author_sort', 'title', 'title_sort', 'title_sub', 'title_short',
  'title_full', 'title_full_unstemmed', 'title_fullStr', 'title_auth', 'physical', 'publisher', 'publisherStr',
  'publishDate', 'publishDateSort', 'edition', 'description', 'contents', 'url', 'thumbnail', 'lccn', 'ctrlnum',
  'isbn', 'issn', 'oclc_num', 'callnumber-first', 'callnumber-subject', 'callnumber-label', 'callnumber-sort',
  'callnumber-raw', 'callnumber-search', 'dewey-hundreds', 'dewey-tens', 'dewey-ones', 'dewey-full', 'dewey-sort',
  'dewey-raw', 'dewey-search', 'author2', 'author2_variant', 'author2_role', 'author_corporate',
  'author_corporate_role', 'author_additional', 'title_alt', 'title_old', 'title_new', 'dateSpan', 'series',
  'series2', 'topic', 'topic_unstemmed', 'topic_facet', 'topic_browse', 'author_browse', 'genre', 'genre_facet',
  'geographic', 'geographic_facet', 'era', 'era_facet', 'illustrated', 'long_lat', 'long_lat_display',
  'long_lat_label', 'container_title', 'container_volume', 'container_issue', 'container_start_page',
  'container_reference', 'hierarchytype', 'hierarchy_top_id', 'hierarchy_top_title', 'hierarchy_parent_id',
  'hierarchy_parent_title', 'hierarchy_sequence', 'is_hierarchy_id', 'is_hierarchy_title', 'title_in_hierarchy',
  'hierarchy_browse', 'record_format', 'first_indexed', 'last_indexed',
];

/** `<dynamicField name="*…">`: any field name ending so is declared. */
export const DYNAMIC_SUFFIXES = [
  '_date', '_date_mv', '_isn', '_isn_mv', '_str', '_str_mv', '_txt', '_txt_mv', '_txtF', '_txtF_mv', '_txtP',
  '_txtP_mv', '_random', '_boolean', '_geo', '_geo_mv', '_autocomplete',
];

/** `dest` of every `<copyField>`. */
export const COPY_FIELD_TARGETS = [
  'spelling', 'spellingShingle', 'title_fullStr', 'title_full_unstemmed', 'author_facet', 'publisherStr',
  'topic_unstemmed', 'allfields_unstemmed', 'fulltext_unstemmed', 'topic_browse', 'author_browse', 'allfields',
  'dewey-search', 'callnumber-search',
];

const copyTargets = new Set(COPY_FIELD_TARGETS);
/** The declared fields a document may carry. */
export const SENDABLE_FIELDS = DECLARED_FIELDS.filter((field) => !copyTargets.has(field));
