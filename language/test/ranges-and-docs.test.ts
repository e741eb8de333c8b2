/** Source ranges (1-based, end exclusive, 0-based offsets) and doc comments. */
import { describe, expect, it } from 'vitest';
import type { CapabilityDecl, PlanDecl, StepDecl } from '../ast.js';
import type { Range } from '../diagnostic.js';
import { LineIndex } from '../source.js';
import { parseOk } from './helpers.js';

const slice = (text: string, r: Range) => text.slice(r.start.offset, r.end.offset);

describe('ranges', () => {
  const text = `capability c {
  kind tool
  timeout 30s
}

plan p {
  step a = c(x: input.value + 1) { timeout 5s }
  step b = c(x: a.output.y)
}
`;
  const m = parseOk(text);
  const cap = m.declarations[0] as CapabilityDecl;
  const plan = m.declarations[1] as PlanDecl;
  const a = plan.body[0] as StepDecl;

  it('covers each node exactly, with consistent line/column/offset', () => {
    expect(slice(text, cap.range)).toBe('capability c {\n  kind tool\n  timeout 30s\n}');
    expect(cap.range.start).toEqual({ line: 1, column: 1, offset: 0 });
    expect(cap.range.end).toEqual({ line: 4, column: 2, offset: text.indexOf('}') + 1 });
    expect(slice(text, cap.name.range)).toBe('c');
    expect(slice(text, cap.timeout!.range)).toBe('30s');
    expect(cap.timeout!.range.start).toMatchObject({ line: 3, column: 11 });
    expect(slice(text, a.range)).toBe('step a = c(x: input.value + 1) { timeout 5s }');
    expect(slice(text, a.action.range)).toBe('c(x: input.value + 1)');
    const arg = a.action.kind === 'CapabilityCall' ? a.action.args[0]! : undefined;
    expect(slice(text, arg!.range)).toBe('x: input.value + 1');
    expect(slice(text, arg!.value.range)).toBe('input.value + 1');
    const sum = arg!.value;
    expect(sum.kind === 'BinaryExpr' && slice(text, sum.left.range)).toBe('input.value');
    expect(sum.kind === 'BinaryExpr' && sum.left.kind === 'MemberExpr' && slice(text, sum.left.property.range)).toBe('value');
    expect(m.range.start.offset).toBe(0);
    expect(m.range.end.offset).toBe(text.length);
  });

  it('every range of every node matches its line/column (walks the whole tree)', () => {
    const idx = new LineIndex(text);
    let count = 0;
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'range' || k.endsWith('Range')) && x && typeof x === 'object') {
          const r = x as Range;
          expect(idx.positionAt(r.start.offset)).toEqual(r.start);
          expect(idx.positionAt(r.end.offset)).toEqual(r.end);
          expect(r.end.offset).toBeGreaterThanOrEqual(r.start.offset);
          count++;
        } else walk(x);
      }
    };
    walk(m);
    expect(count).toBeGreaterThan(25);
  });

  it('counts columns in UTF-16 code units and handles CRLF', () => {
    const crlf = 'plan p {\r\n  goal "€😀"\r\n  deadline 2h\r\n}\r\n';
    const p = parseOk(crlf).declarations[0] as PlanDecl;
    expect(p.deadline!.range.start).toEqual({ line: 3, column: 12, offset: crlf.indexOf('2h') });
    expect(p.goal!.range.end.column).toBe(2 + 1 + '"€😀"'.length + 5);
  });
});

describe('doc comments', () => {
  const text = `/// Generates marketing copy.
/// Second line.
capability gen {
  kind llm  handler "./handlers.js#gen"
  input {
    /// The product.
    product_id: string
    other: int
  }
}

// a plain comment
plan p {
  /// Drafts the copy.
  step a = gen(product_id: "x")
  step b = gen(product_id: "y")
}

/// Orphan at the end`;
  const m = parseOk(text);

  it('attach to the next declaration, field and step', () => {
    const cap = m.declarations[0] as CapabilityDecl;
    expect(cap.doc).toBe('Generates marketing copy.\nSecond line.');
    expect(cap.input!.fields[0]!.doc).toBe('The product.');
    expect(cap.input!.fields[1]!.doc).toBeUndefined();
    const plan = m.declarations[1] as PlanDecl;
    expect(plan.doc).toBeUndefined();
    expect((plan.body[0] as StepDecl).doc).toBe('Drafts the copy.');
    expect((plan.body[1] as StepDecl).doc).toBeUndefined();
  });

  it('keeps plain comments (and unattached doc comments) in Module.comments', () => {
    expect(m.comments.map((c) => [c.style, c.text])).toEqual([
      ['line', '// a plain comment'],
      ['line', '/// Orphan at the end'],
    ]);
    expect(m.comments[0]!.range.start).toMatchObject({ line: 12, column: 1 });
  });

  it('does not attach across another comment', () => {
    const d = parseOk('/// doc\n// note\nplan p { }').declarations[0]!;
    expect(d.doc).toBeUndefined();
  });
});
