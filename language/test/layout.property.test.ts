/**
 * `render` (groups measured when built, work lists without an object per node) lays documents
 * out exactly as the plain algorithm does: a reference written here that walks every document
 * it measures, with no stored width or break (property, on generated documents and widths).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { breakParent, group, hardline, ifBreak, indent, line, lineSuffix, render, softline, trimSpacesEnd, type Doc } from '../layout.js';

const RUNS = Math.max(200, Number(process.env.ORCH_PROPERTY_RUNS ?? 300));

type Node = Exclude<Doc, string | readonly Doc[]>;
const node = (d: Doc): Node => d as Node;

/** Anything inside that forces a break: a hard line, `breakParent`, a line break in a text. */
function mustBreak(d: Doc): boolean {
  if (typeof d === 'string') return d.includes('\n');
  if (Array.isArray(d)) return (d as readonly Doc[]).some(mustBreak);
  const x = node(d);
  switch (x.t) {
    case 'group':
    case 'indent':
      return mustBreak(x.doc);
    case 'line':
      return x.hard;
    case 'ifBreak':
      return mustBreak(x.broken) || mustBreak(x.flat);
    case 'breakParent':
      return true;
    default:
      return false;
  }
}

interface Cmd {
  ind: number;
  brk: boolean;
  doc: Doc;
}

function fits(next: Cmd, rest: readonly Cmd[], width: number): boolean {
  const stack = [next];
  let r = rest.length - 1;
  let remaining = width;
  while (remaining >= 0) {
    const cmd = stack.pop() ?? (r >= 0 ? rest[r--] : undefined);
    if (!cmd) return true;
    const { doc, brk, ind } = cmd;
    if (typeof doc === 'string') {
      const nl = doc.indexOf('\n');
      if (nl >= 0) return remaining - nl >= 0;
      remaining -= doc.length;
    } else if (Array.isArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) stack.push({ ind, brk, doc: doc[i]! });
    } else {
      const x = node(doc);
      if (x.t === 'group') {
        if (mustBreak(x) && brk) return true;
        stack.push({ ind, brk: mustBreak(x) || brk, doc: x.doc });
      } else if (x.t === 'indent') stack.push({ ind: ind + 2, brk, doc: x.doc });
      else if (x.t === 'line') {
        if (brk || x.hard) return true;
        remaining -= x.flat.length;
      } else if (x.t === 'ifBreak') stack.push({ ind, brk, doc: brk ? x.broken : x.flat });
    }
  }
  return false;
}

function reference(doc: Doc, width: number): string {
  const out: string[] = [];
  let column = 0;
  let suffixes: string[] = [];
  const trim = (): void => {
    while (out.length > 0) {
      const last = out[out.length - 1]!;
      const t = trimSpacesEnd(last);
      if (t.length > 0 || last.length === 0) {
        out[out.length - 1] = t;
        return;
      }
      out.pop();
    }
  };
  const flush = (ind: number): void => {
    suffixes.forEach((s, i) => out.push(i === 0 ? s : `\n${' '.repeat(ind)}${s.trimStart()}`));
    suffixes = [];
  };
  const stack: Cmd[] = [{ ind: 0, brk: true, doc }];
  while (stack.length > 0) {
    const { doc: d, brk, ind } = stack.pop()!;
    if (typeof d === 'string') {
      out.push(d);
      const nl = d.lastIndexOf('\n');
      column = nl >= 0 ? d.length - nl - 1 : column + d.length;
    } else if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push({ ind, brk, doc: d[i]! });
    } else {
      const x = node(d);
      if (x.t === 'group') {
        const flat = { ind, brk: false, doc: x.doc };
        const broken = mustBreak(x);
        if (!brk && !broken) stack.push(flat);
        else if (!broken && fits(flat, stack, width - column)) stack.push(flat);
        else stack.push({ ind, brk: true, doc: x.doc });
      } else if (x.t === 'indent') stack.push({ ind: ind + 2, brk, doc: x.doc });
      else if (x.t === 'line') {
        if (!brk && !x.hard) {
          out.push(x.flat);
          column += x.flat.length;
        } else {
          flush(ind);
          trim();
          out.push(`\n${' '.repeat(ind)}`);
          column = ind;
        }
      } else if (x.t === 'ifBreak') stack.push({ ind, brk, doc: brk ? x.broken : x.flat });
      else if (x.t === 'suffix') suffixes.push(x.text);
    }
  }
  flush(0);
  trim();
  return out.join('');
}

const arbDoc: fc.Arbitrary<Doc> = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: 'medium', withCrossShrink: true },
    fc.constantFrom<Doc>('a', 'bb', 'ccc ', 'dddd', 'eeeeeee', '', ' ', 'e\nf', line, line, softline, hardline, breakParent, lineSuffix('// c')),
    fc.array(tie('doc'), { maxLength: 5 }),
    fc.array(tie('doc'), { maxLength: 5 }).map((ds) => group(...ds)),
    fc.array(tie('doc'), { maxLength: 4 }).map((ds) => indent(...ds)),
    fc.tuple(tie('doc'), tie('doc')).map(([b, f]) => ifBreak(b, f)),
  ),
})).doc;

describe('render (property)', () => {
  it('lays out as the plain algorithm, at every width', () => {
    fc.assert(
      fc.property(arbDoc, fc.integer({ min: 0, max: 24 }), (doc, width) => {
        expect(render(doc, width)).toBe(reference(doc, width));
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('a chain nested 100,000 groups deep renders without exhausting the stack', () => {
    let doc: Doc = 'x';
    for (let i = 0; i < 100_000; i++) doc = group(doc, ' ??', indent(line, 'y'));
    const out = render(doc, 100);
    expect(out.split('\n').length).toBeGreaterThan(1000);
    expect(out.startsWith('x ?? y')).toBe(true);
  });
});
