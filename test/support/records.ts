/**
 * TransformedRecord values for load tests and the load benchmark, shaped like the seed record
 * (test/fixtures/seed-record/31810187.record.json) and sized like real ones (5–14 KB of source
 * XML), without going through extract or transform. Everything is a pure function of the PMID
 * and the `revision`, so the same call always builds the same record and hash.
 */
import type { DatabaseTarget } from '../../src/load/db.js';
import { toUpsertRow } from '../../src/load/upsert-row.js';
import { upsertBatch, type UpsertResult } from '../../src/load/upsert.js';
import { canonicalContent } from '../../src/transform/hash.js';
import type { CatalogueRecord, DerivedFields, FacetRow, TransformedRecord } from '../../src/transform/types.js';

export interface RecordOptions {
  /** PMC number: the id becomes `pubmed-<pmc>` (else `pmid-<pmid>`). */
  pmc?: number;
  /** A different revision changes the abstract (and so the hash), as an NCBI correction would. */
  revision?: number;
  /** Applied last, to build a record whose fields differ in exactly known ways. */
  edit?: (parts: { record: CatalogueRecord; derived: DerivedFields }) => void;
}

const SURNAMES = ['Iacobaeus', 'Kadri', 'Lefsihane', 'Boberg', 'Gavin', 'Törnqvist Andrén', 'Lilja', 'Brundin', 'Blanc'];
const GIVEN = ['Ellen', 'Nadir', 'Katia', 'Erik', 'Caroline', 'Anton', 'Anders', 'Lou', 'Katarina'];
const TOPICS = ['Multiple Sclerosis', 'Mesenchymal Stem Cells', 'T-Lymphocytes, Regulatory', 'MicroRNAs', 'Humans'];
const SENTENCE =
  'Bone marrow derived mesenchymal stromal cells have emerged as a possible new therapy for multiple sclerosis, ' +
  'however studies regarding efficacy and in vivo immune response have been limited and inconclusive. ';

export function makeRecord(pmid: number, options: RecordOptions = {}): TransformedRecord {
  const revision = options.revision ?? 0;
  const id = options.pmc === undefined ? `pmid-${pmid}` : `pubmed-${options.pmc}`;
  const year = String(1990 + (pmid % 35));
  const authorCount = 3 + (pmid % 7);
  const authors = Array.from({ length: authorCount }, (_, i) => `${SURNAMES[(pmid + i) % 9]}, ${GIVEN[(pmid + 2 * i) % 9]}`);
  const title = `Short and long term follow up of cell therapy number ${pmid} in progressive multiple sclerosis`;
  // 6 to 20 sentences: the abstract is most of a record's size.
  const description = `${SENTENCE.repeat(6 + (pmid % 15))}Revision ${revision}.`;
  const doi = `10.3390/jcm${pmid}`;
  const urls = [
    ...(options.pmc === undefined ? [] : [`https://www.ncbi.nlm.nih.gov/pmc/articles/PMC${options.pmc}/`]),
    `https://www.ncbi.nlm.nih.gov/pubmed/${pmid}`,
    `http://dx.doi.org/${doi}`,
  ];
  const record: CatalogueRecord = {
    id,
    title,
    title_short: title,
    title_full: title,
    title_fullStr: title,
    title_full_unstemmed: title,
    title_sort: title.toLowerCase(),
    author: authors,
    author_facet: authors,
    author_sort: authors[0],
    description,
    format: ['Online', 'Article', 'Text'],
    language: ['English'],
    publishDate: [year],
    collection: ['PubMed'],
    institution: ['National Center for Biotechnology Information'],
    record_format: 'MEDLINE/PubMed',
    url: urls,
    work_keys_str_mv: authors.map((author) => `AT ${author.replace(/\W/g, '').toLowerCase()} ${title.replace(/\W/g, '').toLowerCase()}`),
    spelling: `${id} ${title} ${authors.join(' ')} J Clin Med ${description}`,
    spellingShingle: [...authors, title],
  };
  const derived: DerivedFields = {
    container_title: 'Journal of clinical medicine',
    container_volume: String(1 + (pmid % 12)),
    container_issue: String(1 + (pmid % 4)),
    container_start_page: `E${pmid % 3000}`,
    issn: ['2077-0383'],
    doi_str_mv: [doi],
    topic_facet: TOPICS.slice(0, 2 + (pmid % 4)),
    genre_facet: ['Journal Article'],
    publishDateSort: `${year}-12-02`,
  };
  options.edit?.({ record, derived });
  return {
    pmid,
    catalogueId: record.id,
    record,
    derived,
    facets: facetRows(record, derived),
    ...canonicalContent(record, derived),
    sourceXml: sourceXml(pmid, record, derived),
  };
}

function facetRows(record: CatalogueRecord, derived: DerivedFields): FacetRow[] {
  const groups: [string, string[]][] = [
    ['author', record.author ?? []],
    ['year', record.publishDate],
    ['language', record.language],
    ['format', record.format],
    ['journal', derived.container_title === undefined ? [] : [derived.container_title]],
    ['topic', derived.topic_facet ?? []],
    ['publication_type', derived.genre_facet ?? []],
  ];
  return groups.flatMap(([facet, values]) => [...new Set(values)].map((value) => ({ facet, value })));
}

/** A PubmedArticle element in efetch's layout, carrying the record's content. */
function sourceXml(pmid: number, record: CatalogueRecord, derived: DerivedFields): string {
  const authors = (record.author ?? [])
    .map((author) => {
      const [last, fore] = author.split(', ');
      return `<Author ValidYN="Y"><LastName>${last}</LastName><ForeName>${fore}</ForeName><Initials>${fore?.[0]}</Initials><AffiliationInfo><Affiliation>Department of Clinical Neuroscience, Karolinska Institutet, 171 77 Stockholm, Sweden.</Affiliation></AffiliationInfo></Author>`;
    })
    .join('');
  const mesh = (derived.topic_facet ?? [])
    .map((topic) => `<MeshHeading><DescriptorName UI="D009103" MajorTopicYN="N">${topic}</DescriptorName></MeshHeading>`)
    .join('');
  // Most of a real record's XML is its reference list, which the catalogue record does not use.
  const references = Array.from(
    { length: 5 + (pmid % 35) },
    (_, i) =>
      `<Reference><Citation>${SURNAMES[i % 9]} A, ${SURNAMES[(i + 4) % 9]} B. Mesenchymal stromal cells in autoimmune disease, part ${i}. J Neuroimmunol. ${2000 + (i % 20)};${i}:1-${i + 10}.</Citation>` +
      `<ArticleIdList><ArticleId IdType="pubmed">${pmid - i - 1}</ArticleId></ArticleIdList></Reference>`,
  ).join('');
  return (
    `<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">${pmid}</PMID>` +
    `<Article PubModel="Electronic"><Journal><ISSN IssnType="Print">2077-0383</ISSN><JournalIssue CitedMedium="Print">` +
    `<Volume>${derived.container_volume}</Volume><Issue>${derived.container_issue}</Issue><PubDate><Year>${record.publishDate[0]}</Year></PubDate></JournalIssue>` +
    `<Title>${derived.container_title}</Title></Journal><ArticleTitle>${record.title}.</ArticleTitle>` +
    `<Abstract><AbstractText>${record.description}</AbstractText></Abstract><AuthorList CompleteYN="Y">${authors}</AuthorList>` +
    `<Language>eng</Language><PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList></Article>` +
    `<MeshHeadingList>${mesh}</MeshHeadingList></MedlineCitation><PubmedData><ArticleIdList>` +
    `<ArticleId IdType="pubmed">${pmid}</ArticleId><ArticleId IdType="doi">${derived.doi_str_mv?.[0]}</ArticleId></ArticleIdList>` +
    `<ReferenceList>${references}</ReferenceList></PubmedData></PubmedArticle>`
  );
}

/** Loads records as the pipeline does, each turned into the row its transform worker would send. */
export function upsertRecords(target: DatabaseTarget, records: readonly TransformedRecord[], runId: number): Promise<UpsertResult> {
  return upsertBatch(target, records.map(toUpsertRow), runId);
}
