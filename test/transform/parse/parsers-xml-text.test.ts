import { describe, expect, it } from 'vitest';
import { XmlParseError } from '../../../src/errors.js';
import { assertWellFormed } from '../../../src/transform/parse/xml-check.js';
import { decodeEntities, flattenMixed, normalizeSpace } from '../../../src/transform/parse/xml-text.js';

describe('decodeEntities', () => {
  it('decodes hex and decimal references and the five predefined entities', () => {
    expect(decodeEntities('T&#xf6;rnqvist &#233; &#x1D400; &lt;5&gt; &amp; &quot;q&quot; &apos;')).toBe(
      'Törnqvist é 𝐀 <5> & "q" \'',
    );
  });

  it('leaves undefined entities as written and replaces forbidden code points', () => {
    expect(decodeEntities('&nbsp; &foo; &#0; &#xD800;')).toBe('&nbsp; &foo; \ufffd \ufffd');
  });
});

describe('flattenMixed', () => {
  it('keeps every word of inline markup, with sup and sub as (x)', () => {
    expect(flattenMixed('10<sup>6</sup> <i>in vivo</i> CD4<sup>+</sup>CD25<sub>hi</sub> <b>and</b> <u>u</u>')).toBe(
      '10(6) in vivo CD4(+)CD25(hi) and u',
    );
  });

  it('drops MathML layout whitespace but not the spaces around the formula', () => {
    const raw = 'uptake ( <mml:math xmlns:mml="x">\n  <mml:msub>\n    <mml:mi>V</mml:mi>\n    <mml:mn>2</mml:mn>\n  </mml:msub>\n</mml:math> ) rose';
    expect(flattenMixed(raw)).toBe('uptake ( V2 ) rose');
  });

  it('keeps CDATA verbatim and drops comments and self-closing elements', () => {
    expect(flattenMixed('a<!-- note --> <![CDATA[<x> & y]]> b<break/>c')).toBe('a <x> & y bc');
  });
});

describe('normalizeSpace', () => {
  it('collapses only XML whitespace, keeping no-break and thin spaces', () => {
    expect(normalizeSpace('  a \n\t b\u00a0c\u2009d  ')).toBe('a b\u00a0c\u2009d');
  });
});

describe('assertWellFormed', () => {
  it('accepts a declaration, DOCTYPE with internal subset, comments and a quoted ">"', () => {
    expect(() =>
      assertWellFormed('<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x "y">]>\n<!-- c --><a t="1>2"><b/></a>\n', 'doc'),
    ).not.toThrow();
  });

  it.each([
    ['<a><b></a>', /<\/a> where <\/b> was expected at line 1, column 7/],
    ['<a><b>', /document ends inside <b>/],
    ['<a></a><a></a>', /second root element <a>/],
    ['', /no root element/],
    ['<a><!-- open', /unterminated comment/],
  ])('refuses %j', (xml, message) => {
    expect(() => assertWellFormed(xml, 'doc')).toThrow(XmlParseError);
    expect(() => assertWellFormed(xml, 'doc')).toThrow(message);
  });
});
