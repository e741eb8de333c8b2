#!/usr/bin/env node
// The project's own grammar-aware fuzzer (`npm run fuzz -- --seconds 600`).
//
// Mutants of the examples and of every ```orch block of the language spec go through parse,
// format and check (the built dist/); every `--run-every`-th mutant that compiles to IR is also
// run: its IR goes through the runtime's IR validation (as `orch run plan.json` does) and a few
// runs of the runtime's scheduler with simulated handlers and random inputs (verify's explorer:
// the same core `orch run` folds events through, on a virtual clock, so a hang is not a wait).
// A failure is: an exception out of any of them, an "internal … error" diagnostic, `fmt`
// refusing a file the parser accepts, `fmt` not idempotent, IR the compiler produced that the
// runtime refuses, or more than 1 s on an input below 100 KB. Each failing input is saved under
// test/fuzz/seeds/ and `test/fuzz/seeds.test.ts` replays the seeds in `npm test`.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEEDS = join(ROOT, 'test', 'fuzz', 'seeds');
const SPEC = process.env.ORCH_SPEC ?? '/work/shared/LANGUAGE.md';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    'max-inputs': { type: 'string', default: String(Number.MAX_SAFE_INTEGER) },
    'check-every': { type: 'string', default: '1' },
    'run-every': { type: 'string', default: '2' },
  },
});

const { parse, format } = await import(join(ROOT, 'dist', 'language', 'index.js'));
const { check } = await import(join(ROOT, 'dist', 'compiler', 'diagnose.js'));
const { compile, validatePlanIR } = await import(join(ROOT, 'dist', 'compiler', 'index.js'));
const { verify } = await import(join(ROOT, 'dist', 'verify', 'index.js'));

// ───────────── corpus ─────────────

function orchFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...orchFiles(p));
    else if (name.endsWith('.orch')) out.push(p);
  }
  return out;
}

const corpus = orchFiles(join(ROOT, 'examples')).map((p) => readFileSync(p, 'utf8'));
const specText = existsSync(SPEC) ? readFileSync(SPEC, 'utf8') : '';
for (const m of specText.matchAll(/```orch\n([\s\S]*?)```/g)) corpus.push(m[1]);
if (!specText) for (const p of orchFiles(join(ROOT, 'language', 'test', 'fixtures'))) corpus.push(readFileSync(p, 'utf8'));

// ───────────── mutators ─────────────

let state = Number(args.seed) >>> 0 || 1;
/** xorshift32: reproducible from --seed. */
function rnd(n) {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state % n;
}
const pick = (xs) => xs[rnd(xs.length)];

const TOKENS = [
  '{', '}', '(', ')', '[', ']', ',', '.', ':', '"', '${', '}"', '??', ' + ', ' - ', '-', ' * ', ' / ', ' % ', ' == ', ' < ', ' > ',
  ' and ', ' or ', 'not ', ' implies ', ' in ', '..', '=', '@personal', '|', '?', '\n', ' ', '\t', '\uFEFF', '\r\n', '//', '///', '/*', '*/',
  'step ', 'when ', 'after ', 'for each x in ', 'parallel 2 ', 'race r {', 'repeat r max 3 until ', 'join first', 'join all_done',
  'plan ', 'capability ', 'resource ', 'policy ', 'guardrail ', 'trigger ', 'invariant ', 'simulate ', 'type ', 'import ', 'module ',
  'input', 'output', 'context', 'run', 'goal "g"', 'list<', 'map<string, ', '>', 'int', 'string', 'bool', 'money', 'duration',
  '3s', '2usd', '50%', '0', '1', '1.5', '9007199254740993', '123456789012345678901234567890', '0.000000000000000000000001',
  'len(', 'secret("K")', 'wait 1s', 'wait until ', ' timeout 2h', 'retry 2', 'fallback ', 'compensate ', 'on_failure continue',
  '\u00e9', '\u{1F600}', '\u0000', '\\', '\\n', '$',
];
const REPEATS = ['1 + ', '1 ?? ', '.a', 'not ', '-', '- ', '(', '[', '{', '"${', 'list<', 'x implies ', '*', '///    ', ' '];

function splice(text, at, del, ins) {
  return text.slice(0, at) + ins + text.slice(at + del);
}

function mutate(text) {
  const n = 1 + rnd(4);
  for (let k = 0; k < n; k++) {
    const at = rnd(text.length + 1);
    switch (rnd(9)) {
      case 0: text = splice(text, at, rnd(12), ''); break;
      case 1: text = splice(text, at, 0, pick(TOKENS)); break;
      case 2: text = splice(text, at, rnd(4), pick(TOKENS)); break;
      case 3: {
        const len = rnd(40);
        text = splice(text, at, 0, text.slice(at, at + len));
        break;
      }
      case 4: {
        const other = pick(corpus);
        const from = rnd(other.length + 1);
        text = splice(text, at, rnd(20), other.slice(from, from + rnd(200)));
        break;
      }
      case 5: {
        // A long run: chains and nesting thousands deep.
        const times = 1 + rnd(rnd(10) === 0 ? 5000 : 300);
        text = splice(text, at, 0, pick(REPEATS).repeat(times));
        break;
      }
      case 6: {
        // An expression position: after `: ` or `== `.
        const i = text.indexOf(': ', at);
        if (i >= 0) text = splice(text, i + 2, 0, pick(REPEATS).repeat(1 + rnd(400)));
        break;
      }
      case 7: text = splice(text, at, 1, String.fromCharCode(rnd(0x3000))); break;
      default: {
        // A number rewritten with many digits.
        const m = /\d+/.exec(text.slice(at));
        if (m) text = splice(text, at + m.index, m[0].length, '9'.repeat(1 + rnd(60)));
      }
    }
  }
  return text;
}

// ───────────── oracle ─────────────

const ENTRY = '/virtual/fuzz/main.orch';

/** A failure of one input; a slow one is measured again (the machine may be busy) before it counts. */
async function failureOf(text, withCheck, withRun) {
  let reason = await failureOnce(text, withCheck, withRun);
  for (let k = 0; k < 2 && reason?.startsWith('slow'); k++) reason = await failureOnce(text, withCheck, withRun);
  return reason;
}

let ran = 0;
/** Compiles the mutant and, when it yields plans, runs each on the scheduler with simulated handlers. */
async function runFailure(text) {
  const host = { readFile: (path) => (path === ENTRY ? text : undefined) };
  const out = compile({ entry: ENTRY, host });
  const bad = out.diagnostics.find((x) => /^internal \w+ error/.test(x.message));
  if (bad) return `compile: ${bad.message}`;
  // `orch run` runs nothing from a file with errors (the IR of a broken plan is for the editor's preview).
  if (out.diagnostics.some((d) => d.severity === 'error')) return undefined;
  for (const plan of out.plans) {
    const checked = validatePlanIR(JSON.parse(JSON.stringify(plan)));
    if (!checked.ok) return `run: the runtime refuses compiled IR: ${JSON.stringify(checked.errors[0]).slice(0, 160)}`;
    ran++;
    const seed = rnd(2 ** 30);
    try {
      const result = await verify(plan, { runs: 3, seed, maxListSize: 3 });
      if (!result || !Array.isArray(result.invariants)) return `run (seed ${seed}): no result`;
    } catch (err) {
      // The seed makes it reproducible: `orch verify FILE --seed N --runs 3 --max-list 3`.
      return `run (seed ${seed}): ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return undefined;
}

async function failureOnce(text, withCheck, withRun) {
  const t0 = performance.now();
  try {
    const p = parse({ file: ENTRY, text });
    const internal = p.diagnostics.find((d) => /^internal \w+ error/.test(d.message));
    if (internal) return `parse: ${internal.message}`;
    const f = format(ENTRY, text);
    if (f.refused) return `format: ${f.refused}`;
    if (f.changed) {
      const again = format(ENTRY, f.text);
      if (again.text !== f.text) return 'format: not idempotent';
    }
    if (withCheck) {
      const host = { readFile: (path) => (path === ENTRY ? text : undefined) };
      const d = check({ entry: ENTRY, host });
      const bad = d.find((x) => /^internal \w+ error/.test(x.message));
      if (bad) return `check: ${bad.message}`;
    }
    if (withRun) {
      const r = await runFailure(text);
      if (r) return r;
    }
  } catch (err) {
    return `exception: ${err instanceof Error ? err.message : String(err)}`;
  }
  const ms = performance.now() - t0;
  if (ms > 1000 && Buffer.byteLength(text) < 100_000) return `slow: ${Math.round(ms)} ms`;
  return undefined;
}

function save(text, reason) {
  mkdirSync(SEEDS, { recursive: true });
  const kind = reason.split(':')[0].replace(/[^a-z]/g, '');
  const name = `${kind}-${createHash('sha1').update(text).digest('hex').slice(0, 12)}.orch`;
  writeFileSync(join(SEEDS, name), text);
  return name;
}

// ───────────── run ─────────────

// Warm up: the recovering parser is built on the first file with an error (not a per-input cost).
for (const t of [corpus[0], `${corpus[0]}}}{`]) await failureOnce(t, true, true);

const deadline = Date.now() + Number(args.seconds) * 1000;
const maxInputs = Number(args['max-inputs']);
const checkEvery = Math.max(1, Number(args['check-every']));
const runEvery = Math.max(1, Number(args['run-every']));
const started = performance.now();
let inputs = 0;
let bytes = 0;
let failures = 0;
const reasons = new Map();
let lastReport = Date.now();
console.log(`orch fuzz: ${corpus.length} corpus files, seed ${args.seed}, ${args.seconds} s`);
while (Date.now() < deadline && inputs < maxInputs) {
  const text = mutate(pick(corpus));
  const reason = await failureOf(text, inputs % checkEvery === 0, inputs % runEvery === 0);
  inputs++;
  bytes += text.length;
  if (reason) {
    failures++;
    const key = reason.slice(0, 80);
    if (!reasons.has(key)) {
      reasons.set(key, save(text, reason));
      console.log(`FAIL ${reason.slice(0, 200)} → seeds/${reasons.get(key)}`);
    }
  }
  if (Date.now() - lastReport > 30_000) {
    lastReport = Date.now();
    const s = (performance.now() - started) / 1000;
    console.log(`… ${inputs} inputs in ${s.toFixed(0)} s (${(inputs / s).toFixed(0)}/s), ${ran} plans run, ${failures} failures`);
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `orch fuzz: ${inputs} inputs (${(bytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(1)} s = ${(inputs / seconds).toFixed(0)} inputs/s, ${ran} plans run; ` +
    `${failures} failures (${reasons.size} distinct)`,
);
process.exitCode = failures > 0 ? 1 : 0;
