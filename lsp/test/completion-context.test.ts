/** Completion contexts from the lexical scan alone (no server): comments, strings, blocks. */
import { describe, expect, it } from 'vitest';
import { complete } from '../features/completion.js';
import { scanContext } from '../features/context-scan.js';

/** Completion labels at the `|` in `src`, without a name index. */
function labelsAt(src: string): string[] {
  const offset = src.indexOf('|');
  const text = src.slice(0, offset) + src.slice(offset + 1);
  return complete(text, offset, { index: undefined, stdModules: () => ['std.policies'] }).map((i) => i.label);
}

describe('scanContext', () => {
  it('tracks blocks with the word that opened them, skipping strings and comments', () => {
    const text = 'plan p {\n  goal "a { b"\n  // }\n  /* } */\n  step s = c(x: 1) {\n    ';
    const ctx = scanContext(text, text.length);
    expect(ctx.frames.map((f) => f.header)).toEqual(['plan', 'step']);
    expect(ctx.inString || ctx.inComment).toBe(false);
  });

  it('knows when the cursor is inside a string, a comment, or an interpolation', () => {
    expect(scanContext('goal "abc', 9).inString).toBe(true);
    expect(scanContext('// note', 7).inComment).toBe(true);
    expect(scanContext('/* open', 7).inComment).toBe(true);
    const interp = scanContext('summary: "Send ${len(', 21);
    expect(interp.inString).toBe(false);
    expect(interp.frames.map((f) => f.bracket)).toEqual(['{', '(']);
  });

  it('tells records from blocks', () => {
    const ctx = scanContext('plan p {\n  output { a: ', 21);
    expect(ctx.frames.map((f) => [f.header, f.record])).toEqual([['plan', false], ['output', false]]);
    const rec = scanContext('trigger t { manual run p with { x: ', 35);
    expect(rec.frames[rec.frames.length - 1]!.record).toBe(true);
  });
});

describe('completion without an index', () => {
  it('offers nothing inside comments and strings', () => {
    expect(labelsAt('// cap|')).toEqual([]);
    expect(labelsAt('plan p { goal "ca|" }')).toEqual([]);
  });

  it('offers top-level keywords at the top level', () => {
    expect(labelsAt('|')).toEqual(expect.arrayContaining(['capability', 'resource', 'policy', 'plan', 'trigger', 'import']));
  });

  it('offers the properties of the enclosing block', () => {
    expect(labelsAt('resource r {\n  |\n}')).toEqual(['kind', 'provides', 'concurrency', 'cost', 'latency', 'reliability', 'location', 'energy', 'endpoint', 'model', 'accepts', 'available']);
    expect(labelsAt('guardrail g {\n  |\n}')).toEqual(['severity', 'category', 'message', 'forbid', 'require', 'assert', 'check']);
    expect(labelsAt('trigger t {\n  |')).toContain('schedule');
    expect(labelsAt('plan p {\n  step s = x() {\n    |\n  }\n}')).toEqual(['after', 'on', 'fallback', 'compensate', 'timeout', 'retry', 'join', 'on_failure', 'priority', 'when']);
    expect(labelsAt('invariant i { |')).toEqual(['always', 'never', 'eventually']);
  });

  it('offers value words after property keywords, by block', () => {
    expect(labelsAt('capability c {\n  kind |')).toEqual(['tool', 'agent', 'llm', 'service', 'human']);
    expect(labelsAt('capability c {\n  data |')).toEqual(['public', 'internal', 'personal', 'sensitive', 'secret']);
    expect(labelsAt('plan p {\n  on_failure |')).toEqual(['abort', 'continue', 'rollback']);
    expect(labelsAt('plan p {\n  step s = x() {\n    join |')).toEqual(['all_success', 'none_failed', 'all_done', 'any_success', 'first']);
    expect(labelsAt('capability c {\n  retry 3 backoff |')).toEqual(['fixed', 'exponential']);
  });

  it('offers types in type positions and expressions elsewhere', () => {
    expect(labelsAt('capability c {\n  input { a: |')).toEqual(expect.arrayContaining(['string', 'int', 'duration', 'money', 'list']));
    const expr = labelsAt('plan p {\n  step s = x(a: |');
    expect(expr).toEqual(expect.arrayContaining(['input', 'context', 'len', 'secret', 'true']));
    expect(labelsAt('plan p {\n  success: "${|')).toEqual(expect.arrayContaining(['input', 'len']));
  });

  it('offers the v0.4 words: test items, their clauses and values, sources, trust and accepts', () => {
    expect(labelsAt('|')).toEqual(expect.arrayContaining(['test', 'source']));
    expect(labelsAt('test "t" {\n  |\n}')).toEqual(['plan', 'started_by', 'input', 'context', 'mock', 'approve', 'reject', 'signal', 'expect', 'captured_from']);
    expect(labelsAt('test "t" {\n  mock charge r|')).toEqual(expect.arrayContaining(['returns', 'fails', 'where', 'calls', 'input']));
    // A test's `input { … }` and `context { … }` hold values, not types.
    expect(labelsAt('test "t" {\n  input { a: |')).toEqual(expect.arrayContaining(['len', 'true']));
    expect(labelsAt('test "t" {\n  input { a: |')).not.toContain('string');
    expect(labelsAt('context {\n  a: |')).toContain('string');
    expect(labelsAt('source s {\n  |\n}')).toEqual(['topic']);
    expect(labelsAt('capability c {\n  trust |')).toEqual(['trusted', 'untrusted']);
    expect(labelsAt('resource r {\n  accepts |')).toEqual(['public', 'internal', 'personal', 'sensitive', 'secret']);
    expect(labelsAt('simulate |')).toContain('context');
  });

  it('offers a field’s labels after @, and after a signal’s type its max_age (a derived one’s hold)', () => {
    expect(labelsAt('plan p {\n  input { body: string @|')).toEqual(['public', 'internal', 'personal', 'sensitive', 'secret', 'trusted', 'untrusted']);
    expect(labelsAt('context {\n  motion: bool @personal |')).toEqual(['max_age']);
    expect(labelsAt('context {\n  occupied: bool = context.motion |')).toEqual(['max_age', 'hold']);
    expect(labelsAt('context {\n  motion: bool max_age |')).not.toContain('max_age');
    // A declaration written on one line: its `input { … }` / `output { … }` is still a record type.
    const labels = ['public', 'internal', 'personal', 'sensitive', 'secret', 'trusted', 'untrusted'];
    expect(labelsAt('capability c { kind tool  input { a: string }  output { email: string @| } }')).toEqual(labels);
    expect(labelsAt('plan p { input { body: string @p| } }')).toEqual(labels);
    expect(labelsAt('capability c { kind tool  input { a: | } }')).toContain('string');
    expect(labelsAt('test "t" { plan p  input { a: | } }')).not.toContain('string');
  });

  it('offers endorse’s and declassify’s named arguments, and the classes after declassify’s to:', () => {
    expect(labelsAt('plan p {\n  step s = c(a: declassify(input.x, |')).toEqual(['to', 'reason']);
    expect(labelsAt('plan p {\n  step s = c(a: endorse(input.x, |')).toEqual(['reason']);
    expect(labelsAt('plan p {\n  step s = c(a: declassify(input.x, to: |')).toEqual(['public', 'internal', 'personal', 'sensitive', 'secret']);
    expect(labelsAt('plan p {\n  step s = c(a: declassify(|')).toContain('input');
  });

  it('offers std modules after import', () => {
    expect(labelsAt('import |')).toEqual(['std.policies']);
  });
});
