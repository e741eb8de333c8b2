/**
 * The two parse paths agree: the direct-to-AST parser (grammar actions, no CST) that `parse`
 * tries first, and the CST parser + CST→AST phase (`parseViaCst`) that handles everything the
 * file must be told about. Same module — every field, in the same key order, with the same
 * ranges and docs — and the same diagnostics, on generated modules, the spec examples, the
 * examples folder, edited (often broken) sources and files with mistakes only the tree sees.
 *
 * Runs per property: ORCH_PROPERTY_RUNS (default 150).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Module } from '../ast.js';
import { AstActions } from '../ast-actions.js';
import { DocComments } from '../doc-comments.js';
import { parse, parseViaCst, RELEASE_TOKENS_FROM, type ParseOutput } from '../index.js';
import { DocComment, lex, orchLexer } from '../lexer.js';
import { CHUNKED_FROM } from '../parse.js';
import { parseExpressionTokens, parseModuleAst } from '../parser.js';
import { print } from '../printer.js';
import { LineIndex } from '../source.js';
import { arbDoc, arbModule, GENERATED_FILE } from './arbitraries.js';
import { EXAMPLE_FILES } from './helpers.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS) > 0 ? Number(process.env.ORCH_PROPERTY_RUNS) : 150;
const TIMEOUT = 60_000 + RUNS * 200;

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SPECS = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.orch'))
  .map((f) => readFileSync(FIXTURES + f, 'utf8'));

const EXAMPLES = EXAMPLE_FILES;

/** Both paths on `text`; JSON text so that key order counts too. */
function bothPaths(text: string, file = 'both.orch'): { direct: ParseOutput; cst: ParseOutput } {
  const direct = parse({ file, text });
  const cst = parseViaCst({ file, text });
  expect(JSON.stringify(direct.module), text).toBe(JSON.stringify(cst.module));
  expect(JSON.stringify(direct.diagnostics), text).toBe(JSON.stringify(cst.diagnostics));
  return { direct, cst };
}

/** The direct parser's own result (undefined when it hands the file to the CST path). */
function directOnly(text: string): Omit<Module, 'comments'> | undefined {
  const lexed = lex(text);
  const docs = new DocComments(lexed.comments.filter((c) => c.tokenType === DocComment && !c.image.startsWith('////')));
  const builder = new AstActions('direct.orch', text, new LineIndex(text), docs, parseExpressionTokens);
  const m = parseModuleAst(lexed.tokens, builder);
  return typeof m === 'string' || builder.diagnostics.length > 0 ? undefined : m;
}

describe('direct-to-AST parse path', () => {
  it('builds the whole module itself for valid files (spec examples and the examples folder)', () => {
    expect(EXAMPLES.length).toBeGreaterThan(5);
    for (const text of [...SPECS, ...EXAMPLES.map((f) => readFileSync(f, 'utf8'))]) {
      const own = directOnly(text);
      expect(own, text.slice(0, 200)).toBeDefined();
      const { cst } = bothPaths(text, 'direct.orch');
      expect(cst.diagnostics).toEqual([]);
      const { comments: _, ...rest } = cst.module;
      expect(JSON.stringify(own)).toBe(JSON.stringify(rest));
    }
  });

  it('agrees with the CST path on generated modules, doc comments included (property)', () => {
    fc.assert(
      fc.property(arbModule, arbDoc, fc.nat(), (ast, doc, at) => {
        let text = print(ast);
        // A doc comment before some line (attaches when a declaration, field or step starts there).
        const lines = text.split('\n');
        const k = at % (lines.length + 1);
        const indent = /^\s*/.exec(lines[k] ?? '')![0];
        lines.splice(k, 0, ...doc.split('\n').map((l) => `${indent}/// ${l}`));
        text = lines.join('\n');
        const { direct } = bothPaths(text, GENERATED_FILE);
        expect(direct.diagnostics).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('agrees with the CST path on edited spec examples, broken or not (property)', () => {
    const FRAGMENTS = [
      'kind robot', 'kind agent', 'cost 1usd', 'timeout 5s', 'retry 2', 'step x = a.b()', 'when a < b < c', '1..3',
      'list<int, int>', 'int<string>', '{', '}', '(', ')', ',', ':', '"${a.b}"', '"${a + 1}"', '"\\q"', 'x', '.', 'and',
      '/// doc\n', '// c\n', 'on_failure panic', 'join maybe', 'priority top', '@secret', '@mystery', 'a: 1, a: 2',
    ];
    const edit = fc.record({
      at: fc.nat(),
      deleteCount: fc.nat({ max: 8 }),
      insert: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.constant(' '), fc.constant('')),
    });
    fc.assert(
      fc.property(fc.constantFrom(...SPECS), fc.array(edit, { minLength: 1, maxLength: 3 }), (spec, edits) => {
        let text = spec;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          text = text.slice(0, at) + e.insert + text.slice(at + e.deleteCount);
        }
        bothPaths(text);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('leaves mistakes only the tree sees to the CST path, with the same diagnostics', () => {
    const cases = [
      'capability c { kind robot }',
      'capability c { cost 1usd cost 2usd }',
      'resource r { concurrency 1.5 }',
      'type T = list<int, string>',
      'type T = int<string>',
      'plan p { step a = c.d(x: 1 < 2 < 3) }',
      'plan p { step a = c.d(x: 1..2) }',
      'plan p { step a = c.d(x: 1) { timeout 1s timeout 2s } }',
      'plan p { step a = c.d(x: 1) when x { when y } }',
      'plan p { step a = c.d(x: { k: 1, k: 2 }) }',
      'plan p { step a = c.d(x: "\\q") }',
      'plan p { step a = c.d(x: "${a +}") }',
      'trigger t { manual }',
      'trigger t { run p }',
      'trigger t { manual schedule "* * * * *" run p }',
      'trigger t { timezone "UTC" manual run p }',
      'simulate c.d { latency 5usd }',
      'capability c { frobnicate 3 }',
      'plan p { goal "x" }\nstray tokens here',
    ];
    for (const text of cases) {
      expect(directOnly(text), text).toBeUndefined();
      const { direct } = bothPaths(text);
      expect(direct.diagnostics.length, text).toBeGreaterThan(0);
    }
  });

  // Thousands of copies of one example (a file made by concatenation) each repeat its module
  // line: that alone must not send the whole file through the CST parser a second time.
  it('keeps its own tree when the only mistake leaves the tree whole (a module line given again)', () => {
    for (const text of ['module a\nmodule b', 'module a\nplan p { goal "x" }\nmodule a\nplan p { goal "x" }']) {
      const lexed = lex(text);
      const docs = new DocComments(lexed.comments.filter((c) => c.tokenType === DocComment && !c.image.startsWith('////')));
      const builder = new AstActions('both.orch', text, new LineIndex(text), docs, parseExpressionTokens);
      expect(typeof parseModuleAst(lexed.tokens, builder), text).toBe('object');
      expect(builder.diagnostics.length, text).toBeGreaterThan(0);
      expect(builder.diagnostics.every((d) => builder.wholeTree.has(d)), text).toBe(true);
      const { direct } = bothPaths(text);
      expect(direct.diagnostics.map((d) => d.code)).toContain('E0102');
    }
  });

  /** Every valid spec and example file, without module/import lines, repeated to `minTokens` tokens. */
  function largeValidText(minTokens: number): string {
    const bodies = [...SPECS, ...EXAMPLES.map((f) => readFileSync(f, 'utf8'))]
      .filter((t) => directOnly(t) !== undefined)
      .map((t) => t.split('\n').filter((l) => !/^\s*(module|import)\b/.test(l)).join('\n'));
    const one = bodies.join('\n');
    const perCopy = lex(one).tokens.length;
    return Array.from({ length: Math.ceil(minTokens / perCopy) + 1 }, () => one).join('\n');
  }

  it('releases the tokens it has consumed on a large file, and builds the same module', () => {
    const text = largeValidText(RELEASE_TOKENS_FROM);
    const lexed = lex(text);
    expect(lexed.tokens.length).toBeGreaterThanOrEqual(RELEASE_TOKENS_FROM);
    const docs = new DocComments(lexed.comments.filter((c) => c.tokenType === DocComment && !c.image.startsWith('////')));
    const builder = new AstActions('big.orch', text, new LineIndex(text), docs, parseExpressionTokens);
    const tokens = lexed.tokens;
    const m = parseModuleAst(tokens, builder, { releaseTokens: true });
    expect(typeof m).toBe('object');
    expect(builder.diagnostics).toEqual([]);
    // Consumed tokens are gone from the input (the last ones stay: the parser may still read them).
    const released = tokens.filter((t) => t === undefined).length;
    expect(released).toBeGreaterThan(tokens.length * 0.9);
    const { comments: _, ...rest } = parseViaCst({ file: 'big.orch', text }).module;
    expect(JSON.stringify(m)).toBe(JSON.stringify(rest));
    // `parse` takes that path on its own and agrees with the CST path.
    bothPaths(text, 'big.orch');
  });

  it('lexes a large file a chunk at a time as it parses it, and builds what the whole lex builds', () => {
    let text = largeValidText(RELEASE_TOKENS_FROM);
    while (text.length <= CHUNKED_FROM) text += `\n${text}`;
    const middle = text.indexOf('\n', text.length >> 1) + 1;
    // A block comment that spans chunks, with declarations at the start of its lines: a chunk
    // cut inside it is unterminated, and the file is lexed whole instead.
    const commented = `${text.slice(0, middle)}/*\n${'plan hidden { step a = b() }\n'.repeat(5000)}*/\n${text.slice(middle)}`;
    const cases = [
      text,
      text.replace(/\n/g, '\r\n'),
      commented,
      // Problems past the first chunks: a lexical one, a syntax error, a property given twice.
      `${text}\nplan tail { step a = f(x: "open) }\n`,
      `${text}\nplan tail { step a = }\n`,
      `${text}\ncapability twice { kind tool kind agent input {} output {} }\n`,
      `${text}\nplan deep { step a = f(x: ${'['.repeat(101)}1${']'.repeat(101)}) }\n`,
    ];
    for (const c of cases) bothPaths(c, 'big.orch');
    // The clean file: lexed in chunks only, never the whole text at once.
    const tokenize = vi.spyOn(orchLexer, 'tokenize');
    try {
      parse({ file: 'big.orch', text });
      expect(tokenize.mock.calls.length).toBeGreaterThan(2);
      expect(tokenize.mock.calls.every(([t]) => t.length < text.length)).toBe(true);
    } finally {
      tokenize.mockRestore();
    }
  });

  // A syntax error, and a mistake only the tree sees (a property given twice).
  it('lexes again for the CST path when a large file fails the direct path after releasing', () => {
    const valid = largeValidText(RELEASE_TOKENS_FROM);
    for (const broken of [`${valid}\nplan tail { step a = }\n`, `${valid}\ncapability twice { kind tool kind agent input {} output {} }\n`]) {
      const { direct } = bothPaths(broken, 'big.orch');
      expect(direct.diagnostics.length).toBeGreaterThan(0);
    }
  });
});
