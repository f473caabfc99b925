/**
 * Cutting a bulk file's bytes into records: whatever the chunks (split inside a tag, a close tag
 * or a multi-byte character), the records come out whole and decoded, and a file that does not
 * close its root is refused.
 */
import { describe, expect, it } from 'vitest';
import { bulkItems, type BulkItem } from '../../src/extract/record-stream.js';

const article = (pmid: number, title: string): string =>
  `<PubmedArticle><MedlineCitation><PMID Version="1">${pmid}</PMID><Article><ArticleTitle>${title}</ArticleTitle></Article></MedlineCitation></PubmedArticle>`;
const FIRST = article(101, 'Größe — ∑ of 𝛼 and β');
const SECOND = article(102, 'Plain');
const FILE = Buffer.from(
  `<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE PubmedArticleSet>\n<!-- a comment -->\n<PubmedArticleSet>\n${FIRST}\n${SECOND}\n` +
    `<DeleteCitation><PMID Version="1">103</PMID><PMID Version="1">104</PMID></DeleteCitation>\n</PubmedArticleSet>\n`,
);

async function cut(bytes: Buffer, chunkSize: number): Promise<BulkItem[]> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
  }
  const items: BulkItem[] = [];
  for await (const item of bulkItems(chunks(), 'pubmed25n0001.xml')) items.push(item);
  return items;
}

describe('bulkItems', () => {
  it.each([1, 2, 3, 5, 64, FILE.length])('cuts the same records and deletions from chunks of %i bytes', async (chunkSize) => {
    const items = await cut(FILE, chunkSize);
    expect(items).toEqual([
      { kind: 'record', record: { pmid: 101, kind: 'article', xml: FIRST } },
      { kind: 'record', record: { pmid: 102, kind: 'article', xml: SECOND } },
      { kind: 'delete', pmid: 103 },
      { kind: 'delete', pmid: 104 },
    ]);
  });

  it('refuses a file that ends inside its root', async () => {
    await expect(cut(FILE.subarray(0, FILE.length - 30), 7)).rejects.toThrow(/pubmed25n0001\.xml: truncated: <PubmedArticleSet> is not closed/);
  });
});
