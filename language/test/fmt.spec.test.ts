/**
 * Formatting the LANGUAGE.md examples (language/test/fixtures/spec-*.orch), the example projects
 * and the standard library: every comment is kept, the meaning (tree ignoring positions) is
 * unchanged, and formatting again changes nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { format, sameMeaning } from '../format.js';
import { parse } from '../index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `.orch` files under `dir`, relative to the repository root. */
function orchFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.join(rel, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(child);
      else if (e.isFile() && e.name.endsWith('.orch')) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

const SPEC = orchFiles('language/test/fixtures').filter((f) => path.basename(f).startsWith('spec-'));
const OTHERS = [...orchFiles('examples'), ...orchFiles('stdlib')].filter(
  (f) => !parse({ file: f, text: readFileSync(path.join(ROOT, f), 'utf8') }).diagnostics.some((d) => d.severity === 'error'),
);

const RUNS = Math.max(50, Math.round(Number(process.env.ORCH_PROPERTY_RUNS ?? 300) / 3));

/** Edits a user might make: drop, swap or duplicate lines, add comments anywhere (even mid-token). */
const arbEdit = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), to: fc.nat() }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('line' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('eol' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('block' as const), at: fc.nat(), column: fc.nat() }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat(), column: fc.nat() }),
);
type Edit = typeof arbEdit extends fc.Arbitrary<infer T> ? T : never;

function applyEdits(text: string, edits: readonly Edit[]): string {
  const lines = text.split('\n');
  edits.forEach((e, k) => {
    const i = e.at % lines.length;
    const l = lines[i]!;
    switch (e.op) {
      case 'drop': lines.splice(i, 1); break;
      case 'swap': { const j = e.to % lines.length; [lines[i], lines[j]] = [lines[j]!, l]; break; }
      case 'dup': lines.splice(i, 0, l); break;
      case 'line': lines.splice(i, 0, `// note ${k}`); break;
      case 'eol': lines[i] = `${l} // eol ${k}`; break;
      case 'block': { const c = e.column % (l.length + 1); lines[i] = `${l.slice(0, c)} /* b${k} */ ${l.slice(c)}`; break; }
      case 'cut': { const c = e.column % (l.length + 1); lines[i] = `${l.slice(0, c)} // cut ${k}\n${l.slice(c)}`; break; }
    }
  });
  return lines.join('\n');
}

function comments(file: string, text: string): string[] {
  return parse({ file, text })
    .module.comments.map((c) => c.text.trimEnd())
    .sort();
}

function checkFile(file: string): void {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const before = parse({ file, text });
  expect(before.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const once = format(file, text);
  expect(once.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const after = parse({ file, text: once.text });
  expect(after.diagnostics.filter((d) => d.severity === 'error'), once.text).toEqual([]);
  expect(comments(file, once.text)).toEqual(comments(file, text));
  expect(sameMeaning(before.module, after.module)).toBe(true);
  expect(once.text.endsWith('\n')).toBe(true);
  const twice = format(file, once.text);
  expect(twice.changed).toBe(false);
  expect(twice.text).toBe(once.text);
}

describe('formatting real sources', () => {
  it('has the LANGUAGE.md example fixtures to work on', () => {
    expect(SPEC.length).toBeGreaterThanOrEqual(4);
    expect(OTHERS.length).toBeGreaterThanOrEqual(3);
  });

  it.each(SPEC)('%s: keeps every comment, the meaning, and is idempotent', (file) => checkFile(file));
  it.each(OTHERS)('%s: keeps every comment, the meaning, and is idempotent', (file) => checkFile(file));

  it('keeps the spec comments next to the properties they describe', () => {
    const file = SPEC.find((f) => f.endsWith('spec-1.orch'))!;
    const out = format(file, readFileSync(path.join(ROOT, file), 'utf8')).text;
    expect(out).toContain('  kind agent // tool | agent | llm | service | human\n');
    expect(out).toContain('  data internal // highest data class the capability handles\n');
    expect(out).toContain('  strategy privacy_first // privacy_first | cost | latency | comfort | balanced\n');
    expect(out).toContain('  budget cost <= 0.50usd\n');
    expect(out).toContain('/// Generates marketing copy for a product.\ncapability content_generation {\n');
  });

  it('edited sources that still parse format without refusal, keep their comments and are idempotent (property)', () => {
    const all = [...SPEC, ...OTHERS];
    const texts = all.map((f) => readFileSync(path.join(ROOT, f), 'utf8'));
    let formatted = 0;
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), fc.array(arbEdit, { minLength: 1, maxLength: 4 }), (which, edits) => {
        const file = all[which]!;
        const text = applyEdits(texts[which]!, edits);
        const once = format(file, text);
        if (once.diagnostics.some((d) => d.severity === 'error')) return; // edits broke the syntax
        formatted++;
        expect(once.refused, text).toBeUndefined();
        expect(comments(file, once.text)).toEqual(comments(file, text));
        expect(format(file, once.text).text, text).toBe(once.text);
      }),
      { numRuns: RUNS },
    );
    expect(formatted).toBeGreaterThan(RUNS / 4);
  }, Math.max(180_000, RUNS * 2000));
});
