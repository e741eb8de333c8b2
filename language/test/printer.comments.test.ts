/**
 * Comments survive formatting: every comment is printed once, next to what it was written next
 * to, and formatting with comments is idempotent. Example-based placement tests plus a property
 * that sprinkles comments into printed generated modules.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { format } from '../format.js';
import { parse, tokenize } from '../index.js';
import { print } from '../printer.js';
import { arbModule, GENERATED_FILE, stripRanges } from './arbitraries.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS ?? 300);
/** Generous: shrinking a failure takes many runs. */
const TIMEOUT = Math.max(180_000, RUNS * 600);

function fmt(text: string): string {
  const result = format('test.orch', text);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.text;
}

function commentTexts(text: string): string[] {
  return parse({ file: 'test.orch', text })
    .module.comments.map((c) => c.text.trimEnd())
    .sort();
}

describe('comment placement', () => {
  it('keeps leading, trailing and dangling comments of declarations and properties', () => {
    const input = [
      '// file header',
      '',
      '// about the capability',
      'capability gen {  // opening line',
      '  // leading of timeout',
      '  timeout 5s  // why five',
      '  kind agent   // trails kind',
      '  /* block before cost */ cost 0.01usd',
      '  // dangling at the end',
      '}',
      '// trailing the file',
      '',
    ].join('\n');
    expect(fmt(input)).toBe(
      [
        '// file header',
        '',
        '// about the capability',
        'capability gen {',
        '  // opening line',
        '  kind agent // trails kind',
        '  // leading of timeout',
        '  timeout 5s // why five',
        '  /* block before cost */',
        '  cost 0.01usd',
        '  // dangling at the end',
        '}',
        '// trailing the file',
        '',
      ].join('\n'),
    );
  });

  it('keeps comments inside records, argument lists and step option blocks', () => {
    const input = [
      'plan p {',
      '  input {',
      '    a: string, // the a',
      '    // about b',
      '    b: int',
      '  }',
      '  step s = cap(',
      '    x: 1, // one',
      '    y: [1, 2] // two',
      '  ) {',
      '    retry 2 // twice',
      '    // leading of timeout',
      '    timeout 1s',
      '  }',
      '  /// documented step',
      '  step t = wait 1s // short wait',
      '',
      '  success s.completed // done',
      '}',
      '',
    ].join('\n');
    expect(fmt(input)).toBe(
      [
        'plan p {',
        '  input {',
        '    a: string, // the a',
        '    // about b',
        '    b: int',
        '  }',
        '',
        '  step s = cap(',
        '    x: 1, // one',
        '    y: [1, 2] // two',
        '  ) {',
        '    // leading of timeout',
        '    timeout 1s',
        '    retry 2 // twice',
        '  }',
        '  /// documented step',
        '  step t = wait 1s // short wait',
        '',
        '  success s.completed // done',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('keeps a one-line block comment where it was written in a list: before a value, and before the comma', () => {
    const input = [
      'plan p {',
      '  input { a: int /* count */, b: string }',
      '  step s = log(message: /* greeting */ "hi", level: "info" /* lvl */)',
      '  step t = log(message: "x" /* why */, level: /* how */ "info")',
      '}',
      '',
    ].join('\n');
    // Unchanged: the comments stay beside the value they were written beside, not the next item.
    expect(fmt(input)).toBe(input.replace('  step s', '\n  step s'));
    expect(fmt(fmt(input))).toBe(fmt(input));
  });

  it('moves the end-of-line comment of a one-line declaration into its block; one-line invariants keep it', () => {
    const input = 'trigger api_in { api "/x"  run p }   // HTTP POST\ninvariant i { always a.completed } // stays\n';
    expect(fmt(input)).toBe('trigger api_in {\n  // HTTP POST\n  api "/x"\n  run p\n}\n\ninvariant i { always a.completed } // stays\n');
  });

  it('does not mistake a keyword inside an expression for a property when placing comments', () => {
    const input = 'plan p {\n  for each a in output {}\n\n  // about the output\n  output {}\n  goal "g" // the goal\n}\n';
    expect(fmt(input)).toBe('plan p {\n  goal "g" // the goal\n\n  for each a in output {}\n\n  // about the output\n  output {}\n}\n');
  });

  it('prints doc comments as /// lines above declarations, fields and steps', () => {
    const input = 'context {\n  /// degrees\n  /// Celsius\n  t: number\n}\n/// The plan.\nplan p { step a = wait 1s }\n';
    expect(fmt(input)).toBe('context {\n  /// degrees\n  /// Celsius\n  t: number\n}\n\n/// The plan.\nplan p {\n  step a = wait 1s\n}\n');
  });

  // Regression (found by the property below): a record in the step's `when` condition or action
  // has a `{` and may have a `timeout:` key; the option block's properties were looked for there,
  // so the real `timeout` option had the wrong range and its comments moved on every format.
  it('keeps comments of step options when the action or `when` holds a record with an option-named key', () => {
    const whenRecord = 'plan p {\n  step s = wait 1s when { timeout: 1 }.x { // end 1\n    timeout 0ms // end 2\n  }\n}\n';
    const expected = 'plan p {\n  step s = wait 1s when { timeout: 1 }.x {\n    // end 1\n    timeout 0ms // end 2\n  }\n}\n';
    expect(fmt(whenRecord)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
    const actionRecord = 'plan p {\n  step s = wait { timeout: 1 } {\n    // own\n    timeout 0ms // end\n    retry 1\n  }\n}\n';
    expect(fmt(actionRecord)).toBe(actionRecord);
    const shrunk = [
      'plan a {',
      '  step _ = wait null',
      '// own 6',
      '    when { timeout: [100ms] }["k"] {',
      '    timeout 0ms',
      '  }',
      '}',
    ].join('\n');
    const once = fmt(shrunk);
    expect(once).toBe('plan a {\n  step _ = wait null when { timeout: [100ms] }["k"] {\n    // own 6\n    timeout 0ms\n  }\n}\n');
    expect(fmt(once)).toBe(once);
  });

  it('keeps a single blank line between steps where the source had blank lines', () => {
    const input = 'plan p {\n  step a = wait 1s\n\n\n\n  step b = wait 2s\n  step c = wait 3s\n}\n';
    expect(fmt(input)).toBe('plan p {\n  step a = wait 1s\n\n  step b = wait 2s\n  step c = wait 3s\n}\n');
  });
});

/** Inserts comments at line ends and as whole lines, never touching `///` doc lines. */
function sprinkle(text: string, picks: readonly number[]): { text: string; inserted: string[] } {
  const lines = text.split('\n');
  const out: string[] = [];
  const inserted: string[] = [];
  lines.forEach((line, i) => {
    const pick = picks[i % picks.length]!;
    const isDoc = line.trim().startsWith('///');
    const afterDoc = i > 0 && lines[i - 1]!.trim().startsWith('///');
    const n = inserted.length;
    if (pick === 1 && !afterDoc) {
      out.push(`// own ${n}`);
      inserted.push(`// own ${n}`);
      out.push(line);
    } else if (pick === 2 && !isDoc && line.trim() !== '') {
      out.push(`${line} // end ${n}`);
      inserted.push(`// end ${n}`);
    } else if (pick === 3 && !isDoc && line.trim() !== '') {
      out.push(`${line} /* block ${n} */`);
      inserted.push(`/* block ${n} */`);
    } else if (pick === 4 && !afterDoc) {
      out.push(`/* own block ${n} */ ${line}`);
      inserted.push(`/* own block ${n} */`);
    } else out.push(line);
  });
  return { text: out.join('\n'), inserted };
}

describe('comments survive formatting (property)', () => {
  it('formatting a printed module with comments sprinkled in keeps every comment, the tree, and is idempotent', () => {
    fc.assert(
      fc.property(arbModule, fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 20 }), (ast, picks) => {
        const { text, inserted } = sprinkle(print(ast), picks);
        const once = format(GENERATED_FILE, text);
        expect(once.diagnostics, text).toEqual([]);
        const reparsed = parse({ file: GENERATED_FILE, text: once.text }).module;
        expect(commentTexts(once.text), once.text).toEqual([...inserted].sort());
        expect(stripRanges({ ...reparsed, comments: [] })).toEqual(stripRanges(ast));
        const twice = format(GENERATED_FILE, once.text);
        expect(twice.text, `input:\n${text}\n\nfirst format:\n${once.text}`).toBe(once.text);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);

  it('block comments between any two tokens survive, and formatting is idempotent', () => {
    fc.assert(
      fc.property(arbModule, fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), (ast, picks) => {
        const printed = print(ast);
        const tokens = tokenize(printed).filter((t) => t.type !== 'comment' && t.type !== 'docComment');
        if (tokens.length === 0) return;
        const at = [...new Set(picks.map((p) => tokens[p % tokens.length]!.range.end.offset))].sort((a, b) => b - a);
        let text = printed;
        const inserted: string[] = [];
        at.forEach((offset, i) => {
          text = `${text.slice(0, offset)} /* k${i} */${text.slice(offset)}`;
          inserted.push(`/* k${i} */`);
        });
        const once = format(GENERATED_FILE, text);
        expect(once.diagnostics, text).toEqual([]);
        expect(once.refused, text).toBeUndefined();
        expect(commentTexts(once.text), once.text).toEqual([...inserted].sort());
        const reparsed = parse({ file: GENERATED_FILE, text: once.text }).module;
        expect(stripRanges({ ...reparsed, comments: [] })).toEqual(stripRanges(ast));
        expect(format(GENERATED_FILE, once.text).text, `input:\n${text}\n\nfirst format:\n${once.text}`).toBe(once.text);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT);
});
