/**
 * Cuts NCBI's bulk files into records while they stream in, chunk by chunk, so a 150 MB file is
 * never held whole: only the unfinished tail of the bytes read so far is kept. Like xml-scan.ts it
 * walks the root's direct children without parsing their insides, relying on the same guarantee
 * (a record element never contains an element of its own name), and proves the file complete: a
 * file that ends before its root closes is refused, as is one that is not XML at all.
 *
 * It cuts the UTF-8 bytes, not decoded text: markup is ASCII, and no byte of a multi-byte
 * character is one of it. Each record is decoded on its own, into a string of its own. Text
 * decoded chunk by chunk would be a string per chunk, joined to the tail before each search, and
 * a record cut from it a slice that keeps that whole string alive as long as the record lives
 * (through the batch's transform and load): more garbage to collect, and more memory held.
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
/** Bytes before the root element beyond which a file is taken for something else than NCBI XML. */
const MAX_PROLOG = 1 << 20;
const EMPTY = Buffer.alloc(0);
/** Enough for a chunk of gunzip's output and the unfinished record before it; grown for a larger record. */
const INITIAL_STORE = 1 << 18;
const LT = 60; /* < */
const GT = 62; /* > */
const SLASH = 47; /* / */

/** The items of a bulk file, from its UTF-8 bytes in chunks (any split, even inside a character). */
export async function* bulkItems(chunks: AsyncIterable<Buffer>, documentName: string): AsyncGenerator<BulkItem> {
  const cutter = new RecordCutter(documentName);
  for await (const chunk of chunks) yield* cutter.push(chunk);
  cutter.end();
}

export class RecordCutter {
  /**
   * Where the bytes read and not cut yet are kept: one buffer, reused from chunk to chunk (the
   * tail moved to its start, the chunk copied after it), so cutting allocates nothing but the
   * records' strings. A new buffer each chunk would be garbage outside the JavaScript heap, which
   * the collector is slow to reclaim, as much of it as the file's size.
   */
  private store: Buffer = Buffer.allocUnsafe(INITIAL_STORE);
  /** The bytes read and not cut yet, from `position` on: a view of the start of `store`. */
  private text: Buffer = EMPTY;
  private position = 0;
  private root: string | undefined;
  private closed = false;
  /** Where the search for the close tag of the element at `position` goes on. */
  private searchFrom = -1;
  /** Close tags as bytes, by element name: searched for once per chunk. */
  private readonly closeTags = new Map<string, Buffer>();

  constructor(private readonly documentName: string) {}

  push(chunk: Buffer): BulkItem[] {
    const rest = this.text.length - this.position;
    if (rest + chunk.length > this.store.length) {
      const larger = Buffer.allocUnsafe(Math.max(2 * this.store.length, rest + chunk.length));
      this.text.copy(larger, 0, this.position);
      this.store = larger;
    } else {
      this.store.copyWithin(0, this.position, this.text.length);
    }
    chunk.copy(this.store, rest);
    this.text = this.store.subarray(0, rest + chunk.length);
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
    if (this.root === undefined) throw this.error(this.text.every(isSpace) ? 'the file is empty' : 'no root element');
    if (!this.closed) throw this.error(`truncated: <${this.root}> is not closed (the file ends inside it)`);
  }

  /** Skips the prolog (declaration, DOCTYPE, comments) and reads the root's start tag; false if more bytes are needed. */
  private openRoot(): boolean {
    const start = this.skipMisc(0);
    if (start === undefined) {
      if (this.text.length > MAX_PROLOG) throw this.error('no root element in its first megabyte');
      return false;
    }
    const tagEnd = this.text.indexOf(GT, start);
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
    if (this.text[tagEnd - 1] === SLASH) this.closed = true;
    return true;
  }

  /** Cuts the next child of the root into `items`; false when the bytes read so far hold no whole child more. */
  private nextChild(items: BulkItem[]): boolean {
    const start = this.skipMisc(this.position);
    if (start === undefined) return false;
    this.position = start;
    const text = this.text;
    if (text[start + 1] === SLASH) {
      const close = this.closeTag(this.root!);
      if (text.length - start < close.length) return false;
      if (!startsWith(text, close, start)) throw this.error(`unexpected ${describe(text, start)} inside <${this.root}>`);
      this.position = start + close.length;
      this.closed = true;
      return false;
    }
    if (start + 1 >= text.length) return false;
    const tagEnd = text.indexOf(GT, start);
    if (tagEnd < 0) return false;
    const name = tagName(text, start);
    if (name === '') throw this.error(`expected an element, found ${describe(text, start)}`);
    let end: number;
    if (text[tagEnd - 1] === SLASH) end = tagEnd + 1;
    else {
      const close = this.closeTag(name);
      const closeAt = text.indexOf(close, Math.max(tagEnd + 1, this.searchFrom));
      if (closeAt < 0) {
        // Next time, search only the new bytes (and a close tag split across the chunks).
        this.searchFrom = Math.max(tagEnd + 1, text.length - close.length);
        return false;
      }
      end = closeAt + close.length;
    }
    this.searchFrom = -1;
    items.push(...this.itemsOf(name, start, end, tagEnd + 1));
    this.position = end;
    return true;
  }

  /** The items of the element from `start` to `end`, its content starting at `contentStart`. */
  private itemsOf(name: string, start: number, end: number, contentStart: number): BulkItem[] {
    const text = this.text;
    switch (name) {
      case 'PubmedArticle':
        return [{ kind: 'record', record: pubmedRecordOf(text.toString('utf8', start, end), 'article', this.documentName) }];
      case 'PubmedBookArticle':
        return [{ kind: 'record', record: pubmedRecordOf(text.toString('utf8', start, end), 'book', this.documentName) }];
      case 'MedlineCitation':
        return [{ kind: 'record', record: pubmedRecordOf(`<PubmedArticle>${text.toString('utf8', start, end)}</PubmedArticle>`, 'article', this.documentName) }];
      case 'DeleteCitation':
        return deletedPmids(text.toString('utf8', contentStart, end - '</DeleteCitation>'.length), this.documentName).map((pmid) => ({ kind: 'delete', pmid }));
      default:
        throw this.error(`unexpected <${name}> in <${this.root}>: ${text.toString('utf8', start, Math.min(end, start + 200))}`);
    }
  }

  private closeTag(name: string): Buffer {
    let tag = this.closeTags.get(name);
    if (tag === undefined) {
      tag = Buffer.from(`</${name}>`);
      this.closeTags.set(name, tag);
    }
    return tag;
  }

  /**
   * The offset of the next thing after whitespace, comments, processing instructions and the
   * DOCTYPE from `from`, or undefined when the bytes read so far end before it.
   */
  private skipMisc(from: number): number | undefined {
    const text = this.text;
    let position = from;
    for (;;) {
      while (position < text.length && isSpace(text[position]!)) position += 1;
      if (position >= text.length) return undefined;
      if (text[position] !== LT) {
        throw this.error(this.root === undefined ? `not XML: it starts with ${describe(text, position)}` : `unexpected text ${describe(text, position)}`);
      }
      let terminator: string | undefined;
      if (startsWith(text, COMMENT, position)) terminator = '-->';
      else if (startsWith(text, PROCESSING, position)) terminator = '?>';
      else if (startsWith(text, DOCTYPE, position)) {
        const subset = text.indexOf('[', position);
        const close = text.indexOf(GT, position);
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
      if (!isSpace(this.text[i]!)) throw this.error(`unexpected content after </${this.root}>: ${describe(this.text, i)}`);
    }
    this.text = EMPTY;
    this.position = 0;
  }

  private error(what: string): XmlParseError {
    return new XmlParseError(`${this.documentName}: ${what}`, { input: this.documentName });
  }
}

const COMMENT = Buffer.from('<!--');
const PROCESSING = Buffer.from('<?');
const DOCTYPE = Buffer.from('<!DOCTYPE');

function startsWith(text: Buffer, prefix: Buffer, position: number): boolean {
  return text.length - position >= prefix.length && text.compare(prefix, 0, prefix.length, position, position + prefix.length) === 0;
}

function tagName(text: Buffer, position: number): string {
  let end = position + 1;
  while (end < text.length) {
    const code = text[end]!;
    if (code === GT || code === SLASH || isSpace(code)) break;
    end += 1;
  }
  return text.toString('utf8', position + 1, end);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function describe(text: Buffer, position: number): string {
  return JSON.stringify(text.toString('utf8', position, position + 40));
}
