/**
 * `reparse` must give exactly what a full parse of the new text gives — AST, ranges, comments and
 * diagnostics — whatever the edit, and take the incremental path for ordinary edits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reparse, type ParsedText } from '../incremental.js';
import { parse } from '../index.js';
import { issuedPositions } from '../source.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS) > 0 ? Number(process.env.ORCH_PROPERTY_RUNS) : 120;
const FILE = '/work/plan.orch';

const examplesDir = new URL('../../examples/', import.meta.url).pathname;
const examples: string[] = readdirSync(examplesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'test')
  .flatMap((d) => readdirSync(join(examplesDir, d.name), { withFileTypes: true }))
  .filter((f) => f.isFile() && f.name.endsWith('.orch'))
  .map((f) => readFileSync(join(f.parentPath, f.name), 'utf8'));
/** Files with every v0.4 item (tests, sources, `simulate context`, annotations, signals). */
const fixturesDir = new URL('./fixtures/', import.meta.url).pathname;
const v04: string[] = ['v04-tests.test.orch', 'v04-flows-context.orch', 'spec-10.orch', 'spec-11.orch'].map((f) => readFileSync(join(fixturesDir, f), 'utf8'));

const SMALL = `capability fetch { kind tool input { url: string } output { body: string } }
/// The edge box.
resource edge { kind edge_cluster provides compute }

// A plan.
plan p {
  step a = fetch(url: "https://example.com")
  step b = fetch(url: a.output.body) // trailing
}

plan q {
  step c = fetch(url: "x")
}
`;

/** `copies` times a module of SMALL's declarations, each with its `module` line (a concatenation). */
const REPEATED = (copies: number): string => Array.from({ length: copies }, () => `module m\n\n${SMALL}`).join('\n');

function previous(text: string): ParsedText {
  return { text, output: parse({ file: FILE, text }) };
}

function splice(text: string, at: number, remove: number, insert: string): string {
  return text.slice(0, at) + insert + text.slice(at + remove);
}

/** Fragments that keep a file valid as often as they break it. */
const fragment = fc.oneof(
  fc.constantFrom('', 'x', '1', '"', '{', '}', '(', ')', '\n', '\r\n', ' ', '/', '//', '/*', '*/', '///', '.', ',', ':'),
  fc.constantFrom(
    '\nplan extra { step z = fetch(url: "z") }\n',
    '\n/// A doc.\ncapability more { kind tool input { v: int } output { w: int } }\n',
    '\n// a comment\n',
    '\nimport std.policies\n',
    '\ntest "t" {\n  plan p\n  mock m returns 1 then 2\n  expect always run.cost < 1usd\n}\n',
    '\nsource s { topic "a/#" sets x from payload.v }\n',
    '\nsimulate context { m stale 5% }\n',
    ' @untrusted',
    ' max_age 2m',
    ' at -1h',
    'module m\n',
    '  step y = fetch(url: "y")\n',
    'renamed',
    '"text"',
  ),
  fc.string({ maxLength: 6 }),
);

const edit = (text: string) =>
  fc.record({
    at: fc.integer({ min: 0, max: text.length }),
    remove: fc.integer({ min: 0, max: 12 }),
    insert: fragment,
  });

describe('reparse', () => {
  it('takes the incremental path for an edit inside one declaration, reusing the others', () => {
    const prev = previous(SMALL);
    const at = SMALL.indexOf('"x"') + 1;
    const text = splice(SMALL, at, 1, 'yz');
    const out = reparse({ file: FILE, text, previous: prev });
    expect(out.mode).toBe('incremental');
    expect(out.module).toEqual(parse({ file: FILE, text }).module);
    // Declarations before the edit are the very same objects.
    expect(out.module.declarations[0]).toBe(prev.output.module.declarations[0]);
    expect(out.module.declarations[2]).toBe(prev.output.module.declarations[2]);
  });

  it('moves the declarations after an edit that adds a line', () => {
    const prev = previous(SMALL);
    const at = SMALL.indexOf('step b');
    const text = splice(SMALL, at, 0, 'step n = fetch(url: "n")\n  ');
    const out = reparse({ file: FILE, text, previous: prev });
    expect(out.mode).toBe('incremental');
    expect(out.module).toEqual(parse({ file: FILE, text }).module);
    expect(out.module.declarations[3]!.range.start.line).toBe(prev.output.module.declarations[3]!.range.start.line + 1);
  });

  it('takes the incremental path for an edit inside a test or a source, reusing the other items', () => {
    for (const text of v04) {
      const prev = previous(text);
      const decls = prev.output.module.declarations;
      for (const [k, d] of decls.entries()) {
        if (d.kind !== 'TestDecl' && d.kind !== 'SourceDecl') continue;
        const at = text.indexOf('"', d.range.start.offset) + 1;
        const next = splice(text, at, 0, 'Q');
        const out = reparse({ file: FILE, text: next, previous: prev });
        expect(out.mode).toBe('incremental');
        expect(out.module).toEqual(parse({ file: FILE, text: next }).module);
        for (const [j, other] of decls.entries()) if (j < k) expect(out.module.declarations[j]).toBe(other);
      }
    }
  });

  // A file made by concatenation: every `module` line after the first is an E0102 that leaves
  // the tree whole. An edit after them re-parses only what it touches, with their diagnostics
  // (also the summary of those past the cap of 100) as a full parse gives them.
  it.each([2, 120])('takes the incremental path after %i repeated module lines, with their diagnostics', (copies) => {
    const text = REPEATED(copies);
    const prev = previous(text);
    expect(prev.output.diagnostics.length).toBeGreaterThan(0);
    // A character in the last plan, a line added to the one before it.
    for (const [at, insert] of [[text.lastIndexOf('"x"') + 1, 'Q'], [text.lastIndexOf('step b'), 'step n = fetch(url: "n")\n  ']] as const) {
      const next = splice(text, at, 0, insert);
      for (const consume of [false, true]) {
        const out = reparse({ file: FILE, text: next, previous: consume ? previous(text) : prev, consume });
        expect(out.mode).toBe('incremental');
        const full = parse({ file: FILE, text: next });
        expect(out.module).toEqual(full.module);
        expect(out.diagnostics).toEqual(full.diagnostics);
      }
    }
    // A `module` line added, or an edit before the last repeated one: the full parse decides.
    expect(reparse({ file: FILE, text: `${text}module again\n`, previous: prev }).mode).toBe('full');
    expect(reparse({ file: FILE, text: splice(text, text.indexOf('"x"') + 1, 0, 'Q'), previous: prev }).mode).toBe('full');
  });

  it('returns the previous parse for the same text and parses fully without one', () => {
    const prev = previous(SMALL);
    expect(reparse({ file: FILE, text: SMALL, previous: prev }).mode).toBe('unchanged');
    expect(reparse({ file: FILE, text: SMALL }).mode).toBe('full');
  });

  // consume: the previous parse's nodes are moved in place (what the language server's worker does).
  it.each([false, true])('equals a full parse after any edit of the examples — AST, ranges, comments, diagnostics (consume: %s)', (consume) => {
    const base = [SMALL, ...examples, ...v04, REPEATED(3)];
    fc.assert(
      fc.property(
        fc.constantFrom(...base).chain((text) => fc.tuple(fc.constant(text), fc.array(edit(text), { minLength: 1, maxLength: 5 }))),
        ([text, edits]) => {
          let prev = previous(text);
          for (const e of edits) {
            const next = splice(prev.text, Math.min(e.at, prev.text.length), e.remove, e.insert);
            const out = reparse({ file: FILE, text: next, previous: prev, consume });
            const full = parse({ file: FILE, text: next });
            expect(out.module).toEqual(full.module);
            expect(out.diagnostics).toEqual(full.diagnostics);
            if (out.edit && !consume) {
              // Every declaration not parsed again is the old one or a moved copy, and `move` agrees.
              expect(out.edit.previous).toBe(prev.output.module);
              for (const d of out.module.declarations) {
                const origin = prev.output.module.declarations.includes(d) ? d : out.edit.movedFrom(d);
                if (!origin) continue;
                expect(out.edit.move(origin.range.start)).toEqual(d.range.start);
                expect(out.edit.move(origin.range.end)).toEqual(d.range.end);
              }
            }
            prev = { text: next, output: out };
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);

  // The in-place move rewrites only the positions the parse handed out: a position object in the
  // tree that is not among them would stay where it was after an edit above it.
  it('hands out, with each parse, every position object its tree holds', () => {
    for (const text of [SMALL, ...examples]) {
      const out = parse({ file: FILE, text });
      const issued = new Set(issuedPositions.get(out.module));
      const missing: unknown[] = [];
      const visit = (v: unknown): void => {
        if (typeof v !== 'object' || v === null) return;
        if (Array.isArray(v)) return v.forEach(visit);
        if (typeof (v as { offset?: unknown }).offset === 'number') {
          if (!issued.has(v as never)) missing.push(v);
          return;
        }
        for (const key in v) visit((v as Record<string, unknown>)[key]);
      };
      visit(out.module);
      expect(missing).toEqual([]);
    }
  });

  it('takes the incremental path for most one-character edits inside string literals of the examples', () => {
    let incremental = 0;
    let total = 0;
    for (const text of examples) {
      const prev = previous(text);
      for (const m of text.matchAll(/"[a-z ]{3,}"/g)) {
        const at = m.index! + 2;
        const next = splice(text, at, 1, 'Q');
        const out = reparse({ file: FILE, text: next, previous: prev });
        expect(out.module).toEqual(parse({ file: FILE, text: next }).module);
        total++;
        if (out.mode === 'incremental') incremental++;
      }
    }
    expect(total).toBeGreaterThan(10);
    // Edits inside imports fall back to a full parse; everything else is incremental.
    expect(incremental / total).toBeGreaterThan(0.8);
  });
});
