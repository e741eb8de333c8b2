/**
 * Reproducers of the attacker/careless-user campaign (issue 15), through the CLI core run in this
 * process (`runCli`, test/support/cli-in-process.ts: the same `main` bin/orch.js runs), real worker
 * threads and the real SQLite journal: broken IR files, misbehaving handlers, oversized outputs,
 * non-finite inputs, short secrets, handler containment.
 */
import { openSqlite } from '../backend/sqlite/driver.js';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CapabilityIR, PlanIR } from '../../compiler/index.js';
import { capability, input, lit, plan, step } from './ir-builder.js';
import { runCli as cli } from '../../test/support/cli-in-process.js';
import { FIXTURES, local, projectDir, tempDir, writePlan } from './helpers.js';

/** A capability using `export` of the project's copy of fixtures/misbehaving.js. */
function bad(name: string, exportName: string, over: Partial<CapabilityIR> = {}): CapabilityIR {
  return capability(name, { handler: { module: './misbehaving.js', export: exportName }, ...over });
}

function project(config: string | null = '{}'): string {
  const dir = projectDir(config);
  copyFileSync(join(FIXTURES, 'misbehaving.js'), join(dir, 'misbehaving.js'));
  return dir;
}

interface Journal {
  run: { status: string; error: string | null } | undefined;
  events: { seq: number; type: string; data: string }[];
}

function journal(dir: string, runId: string): Journal {
  const file = join(dir, '.orch', 'runs.db');
  if (!existsSync(file)) return { run: undefined, events: [] };
  const db = openSqlite(file, { readonly: true });
  try {
    return {
      run: db.prepare('SELECT status, error FROM runs WHERE id = ?').get(runId) as Journal['run'],
      events: db.prepare('SELECT seq, type, data FROM events WHERE run_id = ? ORDER BY seq').all(runId) as Journal['events'],
    };
  } finally {
    db.close();
  }
}

/** Sequence numbers 1..n without gaps, ending in a terminal execution event. */
function expectCompleteJournal(j: Journal, terminal: string): void {
  expect(j.events.map((e) => e.seq)).toEqual(j.events.map((_, i) => i + 1));
  expect(j.events.at(-1)?.type).toBe(terminal);
}

type Result = { status: string; steps: { stepId: string; status: string; output: unknown; error: string | null }[] };
const stepOf = (r: Result, id: string) => r.steps.find((s) => s.stepId === id)!;

describe('broken IR files are refused before anything is journaled', () => {
  const chain = () =>
    plan({
      base_dir: '.',
      capabilities: [local('echo', 'echo')],
      steps: [step({ id: 'a', capability: 'echo' }), step({ id: 'b', capability: 'echo', deps: ['a'] }), step({ id: 'c', capability: 'echo', deps: ['b'] })],
    });
  const withDeps = (p: PlanIR, deps: Readonly<Record<string, readonly string[]>>): PlanIR => ({
    ...p,
    steps: p.steps.map((s) => (deps[s.id] ? { ...s, deps: [...deps[s.id]!] } : s)),
  });

  it('a two-step and a three-step dependency cycle: exit 2, no run in the journal', async () => {
    const dir = project();
    for (const [name, deps] of [
      ['two', { a: ['b'] , b: ['a'] }],
      ['three', { a: ['c'] }],
    ] as const) {
      const file = writePlan(dir, withDeps(chain(), deps), `${name}.json`);
      const r = await cli(['run', file, '--run-id', name], dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/dependency cycle: a → /);
      expect(journal(dir, name).run).toBeUndefined();
    }
  });

  it('names the other structural impossibilities', async () => {
    const dir = project();
    const p = chain();
    const cases: [string, PlanIR, RegExp][] = [
      ['after', { ...p, steps: p.steps.map((s) => (s.id === 'c' ? { ...s, after: ['a'] } : s)) }, /\/steps\/2\/after\/0: "a" is in after but not in deps/],
      ['fallback', { ...p, steps: p.steps.map((s) => (s.id === 'a' ? { ...s, fallback: { capability: 'ghost', args: {} } } : s)) }, /\/steps\/0\/fallback\/capability: unknown capability "ghost"/],
      ['subplan', { ...p, steps: p.steps.map((s) => (s.id === 'a' ? { ...s, capability: null, action: { type: 'run', plan: 'nope', args: {} } } : s)) }, /unknown sub-plan "nope"/],
      ['binding', { ...p, steps: p.steps.map((s) => (s.id === 'a' ? { ...s, binding: { ...s.binding, fallbacks: ['gpu'] } } : s)) }, /binding\/fallbacks\/0: unknown resource "gpu"/],
    ];
    for (const [name, ir, message] of cases) {
      const r = await cli(['run', writePlan(dir, ir, `${name}.json`), '--run-id', name], dir);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(journal(dir, name).run).toBeUndefined();
    }
    // 1e400 parses to Infinity, which `minimum: 0` accepts.
    const text = JSON.stringify(p).replace('"delay_ms":0', '"delay_ms":1e400');
    writeFileSync(join(dir, 'inf.json'), text);
    const inf = await cli(['run', 'inf.json'], dir);
    expect(inf.code).toBe(2);
    expect(inf.stderr).toMatch(/delay_ms: must be a finite number/);
  });
});

describe('handler outputs that are not JSON values fail only their step', () => {
  it('a circular object: the step fails naming the path, the run ends, the journal has no gaps', async () => {
    const dir = project();
    const p = plan({
      base_dir: '.',
      capabilities: [bad('loop', 'circular'), local('echo', 'echo')],
      steps: [step({ id: 'loop', capability: 'loop' }), step({ id: 'after', capability: 'echo', deps: ['loop'] })],
    });
    const r = await cli(['run', writePlan(dir, p), '--json', '--run-id', 'circ'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/internal error|journal write failed/);
    const result = JSON.parse(r.stdout) as Result;
    expect(result.status).toBe('failed');
    expect(stepOf(result, 'loop').error).toBe('output.b.back: a circular reference is not a JSON value');
    const j = journal(dir, 'circ');
    expect(j.run?.status).toBe('failed');
    expectCompleteJournal(j, 'execution_failed');
  });

  it('functions, symbols, bigints, NaN and Maps: each step says what and where', async () => {
    const dir = project();
    const kinds = {
      fn: ['returnsFunction', 'output.a.b: a function is not a JSON value'],
      sym: ['returnsSymbol', 'output.tag: a symbol is not a JSON value'],
      big: ['returnsBigint', 'output.n: a bigint (10n) is not a JSON value'],
      nan: ['returnsNaN', 'output.list[1]: NaN is not a JSON value'],
      map: ['returnsMap', 'output.m: an instance of Map is not a JSON value'],
      thrown: ['throwsSymbol', 'Symbol(thrown)'],
    } as const;
    const p = plan({
      base_dir: '.',
      capabilities: Object.entries(kinds).map(([id, [fn]]) => bad(id, fn)),
      steps: Object.keys(kinds).map((id) => step({ id, capability: id, on_failure: 'continue' })),
    });
    const r = await cli(['run', writePlan(dir, p), '--json', '--run-id', 'kinds'], dir);
    // every step is `on_failure: continue`, so the run itself completes
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Result;
    for (const [id, [, message]] of Object.entries(kinds)) {
      expect(stepOf(result, id).status).toBe('failed');
      expect(stepOf(result, id).error).toBe(message);
    }
    expect(r.stdout).not.toMatch(/\[object Object\]/);
    expectCompleteJournal(journal(dir, 'kinds'), 'execution_completed');
  });
});

describe('handler output size limit', () => {
  const bigPlan = (bytes: number) =>
    plan({ base_dir: '.', capabilities: [bad('big', 'big')], steps: [step({ id: 'big', capability: 'big', args: { bytes: lit(bytes) } })] });

  it('the default 1 MiB: a 3 MiB output fails its step with the size, and is not journaled or printed', async () => {
    const dir = project();
    const r = await cli(['run', writePlan(dir, bigPlan(3 * 1024 * 1024)), '--json', '--run-id', 'huge'], dir);
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as Result;
    expect(stepOf(result, 'big').error).toBe(
      'output is 3 MiB (3145739 bytes) of JSON, more than the limit of 1 MiB (1048576 bytes) (maxOutputBytes / --max-output)',
    );
    expect(r.stdout.length).toBeLessThan(10_000);
    const j = journal(dir, 'huge');
    expect(j.events.reduce((n, e) => n + e.data.length, 0)).toBeLessThan(10_000);
    expectCompleteJournal(j, 'execution_failed');
  });

  it('--max-output and maxOutputBytes in orch.config.json set it (the flag wins)', async () => {
    const dir = project(JSON.stringify({ maxOutputBytes: 100 }));
    const small = writePlan(dir, bigPlan(50), 'small.json');
    const over = writePlan(dir, bigPlan(200), 'over.json');
    expect((await cli(['run', small], dir)).code).toBe(0);
    const r = await cli(['run', over, '--json'], dir);
    expect(r.code).toBe(1);
    expect(stepOf(JSON.parse(r.stdout) as Result, 'big').error).toMatch(/^output is 211 bytes of JSON, more than the limit of 100 bytes/);
    expect((await cli(['run', over, '--max-output', '1000'], dir)).code).toBe(0);
    expect((await cli(['run', small, '--max-output', '10'], dir)).code).toBe(1);
    const junk = project(JSON.stringify({ maxOutputBytes: -5 }));
    const refused = await cli(['run', writePlan(junk, bigPlan(1))], junk);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/maxOutputBytes must be a positive whole number/);
  });

  it('log lines and thrown messages share the budget', async () => {
    const dir = project();
    const p = plan({
      base_dir: '.',
      capabilities: [bad('chatty', 'chatty'), bad('huge', 'throwsHuge')],
      steps: [
        step({ id: 'chatty', capability: 'chatty', args: { lines: lit(500), size: lit(100) } }),
        step({ id: 'huge', capability: 'huge', args: { size: lit(50_000) }, on_failure: 'continue' }),
      ],
    });
    const r = await cli(['run', writePlan(dir, p), '--json', '--run-id', 'chatty', '--max-output', '2000'], dir);
    expect(r.code, r.stderr).toBe(0);
    const huge = stepOf(JSON.parse(r.stdout) as Result, 'huge').error!;
    expect(huge).toMatch(/^z{2000}… \(cut at 1\.95 KiB \(2000 bytes\)\)$/);
    const logs = journal(dir, 'chatty')
      .events.filter((e) => e.type === 'step_log')
      .map((e) => (JSON.parse(e.data) as { line: string }).line);
    expect(logs.length).toBeLessThan(25);
    expect(logs.at(-1)).toBe('… further log lines dropped: more than 1.95 KiB (2000 bytes)');
  });
});

describe('plan inputs are finite numbers; ints are safe integers', () => {
  it('1e400 and 1e300 for an int are refused (exit 2), 1e300 for a number is accepted', async () => {
    const dir = project();
    const p = plan({
      base_dir: '.',
      capabilities: [local('echo', 'echo')],
      steps: [step({ id: 'e', capability: 'echo' })],
      over: { input: { type: 'object', properties: { n: { type: 'integer' }, x: { type: 'number' } }, additionalProperties: false } },
    });
    const file = writePlan(dir, p);
    const inf = await cli(['run', file, '--input', '{"n": 1e400}', '--run-id', 'inf'], dir);
    expect(inf.code).toBe(2);
    expect(inf.stderr).toMatch(/\/n: must be a finite number/);
    expect(journal(dir, 'inf').run).toBeUndefined();
    const huge = await cli(['run', file, '--input', '{"n": 1e300}'], dir);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/\/n: must be an integer between -\(2\^53-1\) and 2\^53-1/);
    expect((await cli(['run', file, '--input', '{"x": 1e400}'], dir)).stderr).toMatch(/\/x: must be a finite number/);
    expect((await cli(['run', file, '--input', '{"n": 9007199254740991, "x": 1e300}'], dir)).code).toBe(0);
  });
});

describe('inputs and context signals nested deeper than an output may be', () => {
  it('are refused (exit 2) before anything is journaled, not a failed journal write', async () => {
    const dir = project();
    const p = plan({
      base_dir: '.',
      capabilities: [local('echo', 'echo')],
      steps: [step({ id: 'e', capability: 'echo' })],
      over: { input: { type: 'object', properties: { any: {} }, additionalProperties: false } },
    });
    const file = writePlan(dir, p);
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    writeFileSync(join(dir, 'deep.json'), `{"x": ${deep(50_000)}}`);
    writeFileSync(join(dir, 'deep-input.json'), `{"any": ${deep(50_000)}}`);
    const ctx = await cli(['run', file, '--context', '@deep.json', '--run-id', 'ctx'], dir);
    expect(ctx.stderr).toBe('orch: the context nests more than 1000 levels deep\n');
    expect(ctx.code).toBe(2);
    expect(journal(dir, 'ctx').run).toBeUndefined();
    const inp = await cli(['run', file, '--input', '@deep-input.json', '--run-id', 'inp'], dir);
    expect(inp.stderr).toMatch(/^orch: the input nests more than 1000 levels deep\n$/);
    expect(inp.code).toBe(2);
    expect(journal(dir, 'inp').run).toBeUndefined();
    writeFileSync(join(dir, 'ok.json'), `{"x": ${deep(900)}}`);
    expect((await cli(['run', file, '--context', '@ok.json'], dir)).code).toBe(0);
  });
});

describe('secrets are redacted as values', () => {
  it('secrets `1`, `true`, `run` do not break the run or touch keys; long ones vanish from output, journal, progress', async () => {
    const dir = project(JSON.stringify({ secrets: { ONE: '1', T: 'true', R: 'run', TOK: 'tok-abcdef' } }));
    const sec = (name: string) => ({ op: 'secret' as const, name });
    const p = plan({
      base_dir: '.',
      capabilities: [bad('echoLog', 'echoLog'), bad('leak', 'throwsSecret')],
      steps: [
        step({
          id: 'e',
          capability: 'echoLog',
          args: { a: sec('ONE'), b: sec('T'), c: sec('R'), d: sec('TOK'), e: lit('run 1 true'), f: input('f'), n: lit(1), flag: lit(true) },
        }),
        step({ id: 'leak', capability: 'leak', deps: ['e'], args: { token: sec('TOK') }, on_failure: 'continue' }),
      ],
    });
    // (a secret written literally in the plan would be in its source and IR already: it comes as input here)
    const r = await cli(['run', writePlan(dir, p), '--json', '--run-id', 'sec', '--input', '{"f": "Bearer tok-abcdef!"}'], dir);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as Result;
    expect(stepOf(result, 'e').output).toEqual({
      // `run` and `1` are short (whole-string matches only); `true` has 4 characters: redacted inside strings too
      a: '***', b: '***', c: '***', d: '***', e: 'run 1 ***', f: 'Bearer ***!', n: 1, flag: true, runId: 'plain',
    });
    expect(stepOf(result, 'leak').error).toBe('login refused for token ***');
    expect(result).toHaveProperty('runId', 'sec');
    // progress (stderr) shows the failure, redacted
    expect(r.stderr).toMatch(/leak: login refused for token \*\*\*/);
    const j = journal(dir, 'sec');
    expectCompleteJournal(j, 'execution_completed');
    for (const text of [r.stdout, r.stderr, readFileSync(join(dir, '.orch', 'runs.db')).toString('latin1')])
      expect(text).not.toContain('tok-abcdef');
    const wal = join(dir, '.orch', 'runs.db-wal');
    if (existsSync(wal)) expect(readFileSync(wal).includes(Buffer.from('tok-abcdef'))).toBe(false);
    // The timeline reads the journal back: still redacted, still readable.
    const timeline = await cli(['timeline', 'sec'], dir);
    expect(timeline.code, timeline.stderr).toBe(0);
    expect(timeline.stdout).not.toContain('tok-abcdef');
  });
});

describe('handlers and the config come only from the project of the plan file', () => {
  const echoPlan = (over: Partial<PlanIR> = {}) =>
    plan({ base_dir: '.', capabilities: [bad('echo', 'echoLog')], steps: [step({ id: 'e', capability: 'echo' })], over });

  /** A folder outside every project whose config and handler leave a trace when imported. */
  function trap(): { dir: string; marker: string } {
    const dir = tempDir('orch-trap-');
    const marker = join(dir, 'imported');
    const touch = `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x');`;
    writeFileSync(join(dir, 'orch.config.js'), `${touch}\nexport default {};\n`);
    writeFileSync(join(dir, 'misbehaving.js'), `${touch}\nexport function echoLog() { return { pwned: true }; }\n`);
    return { dir, marker };
  }

  it('an IR whose base_dir points outside its own project is refused (exit 2) and imports nothing', async () => {
    const { dir: outside, marker } = trap();
    const dir = project();
    for (const base of [outside, '/', '..']) {
      const r = await cli(['run', writePlan(dir, echoPlan({ base_dir: base }), 'escape.json')], dir);
      expect(r.code, base).toBe(2);
      expect(r.stderr).toMatch(/base_dir .* is outside the project directory/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('a symlink inside the project leading outside is not followed', async () => {
    const { dir: outside, marker } = trap();
    const dir = projectDir();
    symlinkSync(join(outside, 'misbehaving.js'), join(dir, 'misbehaving.js'));
    mkdirSync(join(dir, 'lib'));
    symlinkSync(outside, join(dir, 'lib', 'ext'));
    const viaFile = await cli(['run', writePlan(dir, echoPlan()), '--json'], dir);
    expect(viaFile.code).toBe(1);
    expect(stepOf(JSON.parse(viaFile.stdout) as Result, 'e').error).toMatch(/links to .*misbehaving\.js, outside the project directory/);
    const viaDir = plan({ base_dir: '.', capabilities: [capability('echo', { handler: { module: './lib/ext/misbehaving.js', export: 'echoLog' } })], steps: [step({ id: 'e', capability: 'echo' })] });
    const r = await cli(['run', writePlan(dir, viaDir, 'dir.json'), '--json'], dir);
    expect(r.code).toBe(1);
    expect(stepOf(JSON.parse(r.stdout) as Result, 'e').error).toMatch(/outside the project directory/);
    expect(existsSync(marker)).toBe(false);
  });

  it('the config of the working directory is not loaded; a config symlinked from outside is refused', async () => {
    const { dir: outside, marker } = trap();
    const dir = project(null);
    const file = writePlan(dir, echoPlan());
    expect((await cli(['run', file], outside)).code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    symlinkSync(join(outside, 'orch.config.js'), join(dir, 'orch.config.js'));
    const r = await cli(['run', file], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/orch\.config\.js is a link to a file outside the project directory/);
    expect(existsSync(marker)).toBe(false);
  });
});
