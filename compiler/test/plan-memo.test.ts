/**
 * The editor's re-check (incremental parse + reused plans) must report exactly what a fresh
 * `check` reports, after any sequence of edits — and must really skip unchanged plans.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reparse, type ParsedText } from '../../language/index.js';
import { check } from '../diagnose.js';
import { diskHost, type SourceHost } from '../load.js';
import { PlanMemo } from '../plan-memo.js';
import { largeModule } from '../../bench/lsp.js';

const RUNS = Number(process.env.ORCH_PROPERTY_RUNS) > 0 ? Math.max(20, Math.round(Number(process.env.ORCH_PROPERTY_RUNS) / 5)) : 30;

const examplesDir = resolve(new URL('../../examples/', import.meta.url).pathname);
const entries: string[] = readdirSync(examplesDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'test')
  .flatMap((d) => readdirSync(join(examplesDir, d.name), { withFileTypes: true }).filter((f) => f.isFile() && f.name.endsWith('.orch')).map((f) => join(examplesDir, d.name, f.name)));

const MULTI = resolve(new URL('./fixtures/multi-plan.orch', import.meta.url).pathname);

/** An editor session on one file: its buffer, an incremental parser and a plan memo. */
class Session {
  private readonly parses = new Map<string, ParsedText>();
  readonly memo = new PlanMemo();
  constructor(readonly entry: string, public text: string) {}

  private readonly host: SourceHost = {
    readFile: (p) => (resolve(p) === this.entry ? this.text : diskHost.readFile(p)),
    parse: (file, text) => {
      const output = reparse({ file, text, previous: this.parses.get(resolve(file)), consume: true });
      this.parses.set(resolve(file), { text, output });
      return output;
    },
  };

  incremental() {
    return check({ entry: this.entry, host: this.host, memo: this.memo });
  }

  fresh() {
    return check({ entry: this.entry, host: { readFile: (p) => (resolve(p) === this.entry ? this.text : diskHost.readFile(p)) } });
  }
}

function splice(text: string, at: number, remove: number, insert: string): string {
  return text.slice(0, at) + insert + text.slice(at + remove);
}

/** Edits that mostly keep a file valid (inside string literals, new lines of steps) and some that break it. */
function editOf(text: string) {
  const strings = [...text.matchAll(/"[A-Za-z ,.]{2,}"/g)].map((m) => m.index! + 1);
  const lineStarts = [...text.matchAll(/\n {2}step /g)].map((m) => m.index! + 1);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ at: strings.length ? fc.constantFrom(...strings) : fc.constant(0), remove: fc.integer({ min: 0, max: 1 }), insert: fc.constantFrom('x', 'Q', '', ' y') }) },
    { weight: 2, arbitrary: fc.record({ at: lineStarts.length ? fc.constantFrom(...lineStarts) : fc.constant(0), remove: fc.constant(0), insert: fc.constantFrom('  step extra = log(message: "x")\n', '  step twice = log(message: 1)\n', '\n') }) },
    { weight: 1, arbitrary: fc.record({ at: fc.integer({ min: 0, max: text.length }), remove: fc.integer({ min: 0, max: 4 }), insert: fc.constantFrom('', 'x', '}', '\n', '"', 'plan zz { step q = log(message: "q") }\n') }) },
  );
}

describe('plan memo', () => {
  it('reports what a fresh check reports after every edit of the examples', () => {
    let reused = 0;
    const multiText = readFileSync(MULTI, 'utf8');
    // The examples have one plan each; the fixture has several, with a sub-plan, a trigger, a
    // guardrail and unused declarations; the bench module has many long plans.
    const bases: [string, string][] = [
      ...entries.map((f): [string, string] => [f, readFileSync(f, 'utf8')]),
      [MULTI, readFileSync(MULTI, 'utf8')],
      [MULTI, readFileSync(MULTI, 'utf8')],
      [resolve(examplesDir, 'large.orch'), largeModule(700)],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...bases).chain(([file, text]) =>
          fc.tuple(fc.constant(file), fc.constant(text), fc.array(editOf(text), { minLength: 1, maxLength: 5 })),
        ),
        ([file, text, edits]) => {
          const s = new Session(file, text);
          expect(s.incremental()).toEqual(s.fresh());
          for (const e of edits) {
            s.text = splice(s.text, Math.min(e.at, s.text.length), e.remove, e.insert);
            expect(s.incremental()).toEqual(s.fresh());
            reused += s.memo.stats.reused;
          }
        },
      ),
      // The random draws pick a multi-plan file in only ~1 run of 10: this one always edits a
      // string inside one plan of the fixture, so the others are reused whatever the seed.
      { numRuns: RUNS, examples: [[[MULTI, multiText, [{ at: multiText.indexOf('"unread words"') + 1, remove: 0, insert: 'x' }]]]] },
    );
    expect(reused).toBeGreaterThan(0);
  }, 300_000);

  it('checks only the edited plan of a large file, and agrees with a fresh check', () => {
    const file = resolve(examplesDir, 'large.orch'); // not on disk: the session's buffer
    const s = new Session(file, largeModule(1500));
    expect(s.incremental()).toEqual(s.fresh());
    const plans = (s.text.match(/^plan /gm) ?? []).length;
    expect(plans).toBeGreaterThan(3);
    const at = s.text.indexOf('Plan number 1"') + 5;
    for (const insert of ['X', 'YY', '']) {
      s.text = splice(s.text, at, 1, insert); // inside the goal of the second plan
      expect(s.incremental()).toEqual(s.fresh());
      expect(s.memo.stats).toEqual({ reused: plans - 1, checked: 1 });
    }
    // A broken plan: its diagnostics appear, the others are still reused.
    s.text = splice(s.text, s.text.indexOf('step s3 = ', at), 0, 'step s3 = nothing()\n  ');
    const diags = s.incremental();
    expect(diags).toEqual(s.fresh());
    expect(diags.some((d) => d.code === 'E0101')).toBe(true);
    expect(s.memo.stats.reused).toBe(plans - 1);
  });
  /** Plan `second` runs after plan `first`, with `path` from first's output. */
  const CHAIN = [
    'capability read_mail { kind tool  input { box: string }  output { body: string }  trust untrusted }',
    'capability clean { kind tool  input { box: string }  output { body: string } }',
    'capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }',
    'plan first {',
    '  step r = clean(box: "a")',
    '  output { body: r.output.body }',
    '}',
    'plan second {',
    '  input { path: string }',
    '  step w = wipe(path: input.path)',
    '}',
    'trigger next { after first completed run second with { path: event.output.body } }',
    '',
  ].join('\n');

  it('checks a plan an after trigger starts with a `with` again when the plan it watches changes (its flows read that output)', () => {
    const file = resolve(examplesDir, 'chain.orch'); // not on disk: the session's buffer
    const s = new Session(file, CHAIN);
    expect(s.incremental().filter((d) => d.code === 'E0902')).toEqual([]);
    s.text = splice(s.text, s.text.indexOf('clean(box'), 'clean'.length, 'read_mail');
    const after = s.incremental();
    expect(after).toEqual(s.fresh());
    expect(after.filter((d) => d.code === 'E0902')).toHaveLength(1);
  });

  it('checks the plan an after trigger with a `with` watches again with the plan it starts, though unchanged (its labels come from its check in the same run)', () => {
    const file = resolve(examplesDir, 'chain.orch'); // not on disk: the session's buffer
    const text = [
      'capability read_mail { kind tool  input { box: string }  output { body: string }  trust untrusted }',
      'capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }',
      'plan first {',
      '  step r = read_mail(box: "a")',
      '  output { body: r.output.body }',
      '}',
      'plan second {',
      '  input { path: string }',
      '  step w = wipe(path: input.path)',
      '}',
      'plan third {',
      '  step r = read_mail(box: "b")',
      '}',
      'trigger next { after first completed run second with { path: event.output.body } }',
      '',
    ].join('\n');
    const s = new Session(file, text);
    const found = s.incremental();
    expect(found).toEqual(s.fresh());
    expect(found.filter((d) => d.code === 'E0902')).toHaveLength(1);
    // The same text again (the language server's re-check after an edit and its undo), then an
    // edit of the plan no trigger chains: nothing the finding depends on changed, and it stays.
    const edits: [(t: string) => string, { reused: number; checked: number }][] = [
      [(t) => t, { reused: 1, checked: 2 }], // only the unchained plan is replayed
      [(t) => splice(t, t.indexOf('"b"') + 1, 0, 'x'), { reused: 0, checked: 3 }],
    ];
    for (const [edit, stats] of edits) {
      s.text = edit(s.text);
      const again = s.incremental();
      expect(again).toEqual(s.fresh());
      expect(again.filter((d) => d.code === 'E0902')).toHaveLength(1);
      expect(s.memo.stats).toEqual(stats);
    }
  });

  it('an after trigger reading a field its watched plan’s output lacks is E0201 after any edit, as in a fresh check', () => {
    const file = resolve(examplesDir, 'chain-fields.orch'); // not on disk: the session's buffer
    const s = new Session(file, `${CHAIN.replace('event.output.body', 'event.output.bodyx')}plan third { step r = clean(box: "b") }\n`);
    for (const edit of [(t: string) => t, (t: string) => splice(t, t.indexOf('"b"') + 1, 0, 'x')]) {
      s.text = edit(s.text);
      const found = s.incremental();
      expect(found).toEqual(s.fresh());
      expect(found.filter((d) => d.code === 'E0201').map((d) => d.message)).toEqual([expect.stringContaining('has no field "bodyx"; did you mean "body"?')]);
    }
  });

  it('checks every plan again when the project config changes (its verdicts depend on it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-memo-'));
    try {
      const config = join(dir, 'orch.config.json');
      writeFileSync(config, '{}\n');
      const text = [
        'capability read_mail { kind tool  input { box: string }  output { body: string }  trust untrusted }',
        'capability wipe { kind tool  input { path: string }  output { ok: bool }  destructive true }',
        'plan flows {',
        '  input { box: string }',
        '  step r = read_mail(box: input.box)',
        '  step w = wipe(path: r.output.body)',
        '}',
        '',
      ].join('\n');
      const s = new Session(join(dir, 'flows.orch'), text);
      expect(s.incremental().find((d) => d.code === 'E0902')?.severity).toBe('error');
      writeFileSync(config, '{ "flows": "warn" }\n');
      utimesSync(config, new Date(), new Date(Date.now() + 5000)); // a new mtime even on a coarse clock
      const after = s.incremental();
      expect(after).toEqual(s.fresh());
      expect(after.find((d) => d.code === 'E0902')?.severity).toBe('warning');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
