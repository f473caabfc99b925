/**
 * Cuts NCBI's bulk files into records while they stream in, chunk by chunk, so a 150 MB file is
 * never held whole: only the unfinished tail of the text read so far is kept. Like xml-scan.ts it
 * walks the root's direct children without parsing their insides, relying on the same guarantee
 * (a record element never contains an element of its own name), and proves the file complete: a
 * file that ends before its root closes is refused, as is one that is not XML at all.
 *
 * Roots: `<PubmedArticleSet>` (PubmedArticle, PubmedBookArticle, DeleteCitation) and the legacy
 * `<MedlineCitationSet>` of older update files, whose bare `<MedlineCitation>` is wrapped in the
 * `<PubmedArticle>` it would stand in today, so it transforms like one.
 */
import { XmlParseError } from '../errors.js';
import { deletedPmids, pubmedRecordOf } from './efetch-response.js';
import type { PubmedRecordXml } from './types.js';

export type BulkItem = { kind: 'record'; record: PubmedRecordXml } | { kind: 'delete'; pmid: number };

const ROOTS = ['PubmedArticleSet', 'MedlineCitationSet'];
/** Text before the root element beyond which a file is taken for something else than NCBI XML. */
const MAX_PROLOG = 1 << 20;

/** The items of a bulk file, from its text in chunks (any split, UTF-8 already decoded). */
export async function* bulkItems(chunks: AsyncIterable<string>, documentName: string): AsyncGenerator<BulkItem> {
  const cutter = new RecordCutter(documentName);
  for await (const chunk of chunks) yield* cutter.push(chunk);
  cutter.end();
}

export class RecordCutter {
  private text = '';
  private position = 0;
  private root: string | undefined;
  private closed = false;
  /** Where the search for the close tag of the element at `position` goes on. */
  private searchFrom = -1;

  constructor(private readonly documentName: string) {}

  push(chunk: string): BulkItem[] {
    this.text = this.position === 0 ? this.text + chunk : this.text.slice(this.position) + chunk;
    if (this.searchFrom >= 0) this.searchFrom -= this.position;
    this.position = 0;
    const items: BulkItem[] = [];
    if (this.root === undefined && !this.openRoot()) return items;
    while (!this.closed && this.nextChild(items));
    if (this.closed) this.assertOnlySpace(this.position);
    return items;
  }

  /** The file ended: it must have closed its root. */
  end(): void {
    if (this.root === undefined) throw this.error(this.text.trim() === '' ? 'the file is empty' : 'no root element');
    if (!this.closed) throw this.error(`truncated: <${this.root}> is not closed (the file ends inside it)`);
  }

  /** Skips the prolog (declaration, DOCTYPE, comments) and reads the root's start tag; false if more text is needed. */
  private openRoot(): boolean {
    const start = this.skipMisc(0);
    if (start === undefined) {
      if (this.text.length > MAX_PROLOG) throw this.error('no root element in its first megabyte');
      return false;
    }
    const tagEnd = this.text.indexOf('>', start);
    if (tagEnd < 0) {
      if (this.text.length > MAX_PROLOG) throw this.error('no root element in its first megabyte');
      return false;
    }
    const name = tagName(this.text, start);
    if (!ROOTS.includes(name)) {
      throw this.error(`expected <${ROOTS.join('> or <')}> as root, found ${describe(this.text, start)}`);
    }
    this.root = name;
    this.position = tagEnd + 1;
    if (this.text[tagEnd - 1] === '/') this.closed = true;
    return true;
  }

  /** Cuts the next child of the root into `items`; false when the text read so far has no whole child left. */
  private nextChild(items: BulkItem[]): boolean {
    const start = this.skipMisc(this.position);
    if (start === undefined) return false;
    this.position = start;
    const text = this.text;
    if (text.startsWith('</', start)) {
      const close = `</${this.root}>`;
      if (text.length - start < close.length) return false;
      if (!text.startsWith(close, start)) throw this.error(`unexpected ${describe(text, start)} inside <${this.root}>`);
      this.position = start + close.length;
      this.closed = true;
      return false;
    }
    const tagEnd = text.indexOf('>', start);
    if (tagEnd < 0) return false;
    const name = tagName(text, start);
    if (name === '') throw this.error(`expected an element, found ${describe(text, start)}`);
    let end: number;
    if (text[tagEnd - 1] === '/') end = tagEnd + 1;
    else {
      const close = `</${name}>`;
      const closeAt = text.indexOf(close, Math.max(tagEnd + 1, this.searchFrom));
      if (closeAt < 0) {
        // Next time, search only the new text (and a close tag split across the chunks).
        this.searchFrom = Math.max(tagEnd + 1, text.length - close.length);
        return false;
      }
      end = closeAt + close.length;
    }
    this.searchFrom = -1;
    items.push(...this.itemsOf(name, text.slice(start, end), tagEnd + 1 - start));
    this.position = end;
    return true;
  }

  private itemsOf(name: string, element: string, contentStart: number): BulkItem[] {
    switch (name) {
      case 'PubmedArticle':
        return [{ kind: 'record', record: pubmedRecordOf(element, 'article', this.documentName) }];
      case 'PubmedBookArticle':
        return [{ kind: 'record', record: pubmedRecordOf(element, 'book', this.documentName) }];
      case 'MedlineCitation':
        return [{ kind: 'record', record: pubmedRecordOf(`<PubmedArticle>${element}</PubmedArticle>`, 'article', this.documentName) }];
      case 'DeleteCitation':
        return deletedPmids(element.slice(contentStart, element.length - '</DeleteCitation>'.length), this.documentName).map((pmid) => ({ kind: 'delete', pmid }));
      default:
        throw this.error(`unexpected <${name}> in <${this.root}>: ${element.slice(0, 200)}`);
    }
  }

  /**
   * The offset of the next thing after whitespace, comments, processing instructions and the
   * DOCTYPE from `from`, or undefined when the text read so far ends before it.
   */
  private skipMisc(from: number): number | undefined {
    const text = this.text;
    let position = from;
    for (;;) {
      while (position < text.length && isSpace(text.charCodeAt(position))) position += 1;
      if (position >= text.length) return undefined;
      if (text.charCodeAt(position) !== 60 /* < */) {
        throw this.error(this.root === undefined ? `not XML: it starts with ${describe(text, position)}` : `unexpected text ${describe(text, position)}`);
      }
      let terminator: string | undefined;
      if (text.startsWith('<!--', position)) terminator = '-->';
      else if (text.startsWith('<?', position)) terminator = '?>';
      else if (text.startsWith('<!DOCTYPE', position)) {
        const subset = text.indexOf('[', position);
        const close = text.indexOf('>', position);
        if (close < 0) return undefined;
        terminator = subset >= 0 && subset < close ? ']>' : '>';
      }
      if (terminator === undefined) return position;
      const at = text.indexOf(terminator, position);
      if (at < 0) return undefined;
      position = at + terminator.length;
    }
  }

  private assertOnlySpace(from: number): void {
    for (let i = from; i < this.text.length; i += 1) {
      if (!isSpace(this.text.charCodeAt(i))) throw this.error(`unexpected content after </${this.root}>: ${describe(this.text, i)}`);
    }
    this.text = '';
    this.position = 0;
  }

  private error(what: string): XmlParseError {
    return new XmlParseError(`${this.documentName}: ${what}`, { input: this.documentName });
  }
}

function tagName(text: string, position: number): string {
  let end = position + 1;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code === 62 /* > */ || code === 47 /* / */ || isSpace(code)) break;
    end += 1;
  }
  return text.slice(position + 1, end);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function describe(text: string, position: number): string {
  return JSON.stringify(text.slice(position, position + 40));
}
