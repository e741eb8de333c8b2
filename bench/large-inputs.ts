/**
 * Inputs that are large in one direction (issue 34, item 8): every input of ≤ 10 MB must get its
 * answer from `orch check`, `orch fmt` and the language server in time linear in its size. Each
 * shape is timed end to end: `check` and the formatter as fresh processes (Node start-up
 * included), the language server from `didOpen` to its diagnostics, from a one-character edit
 * to the next ones, and for a whole-document formatting of the edited text. The formatter is
 * timed in its three cases: `fmt --check` of the text as generated (it stops at the first
 * difference), `orch fmt` writing a copy (the whole file printed and its meaning checked), and
 * `fmt --check` of that formatted copy (the worst case of `--check`: no early stop). Before the
 * fixes: a 10 MB file of small plans gave no answer from `check` in 60 s, 100,000 arguments
 * took 28–34 s, 100,000 `///` lines 5–15 s; `orch fmt` of the small plans 8–12 s and
 * `fmt --check` of them formatted 5–6 s.
 *
 * A 100,000-step plan is measured first, as the anchor: on a shared, loaded machine a shape's
 * ratio to the anchor's `check` in the same run says more than its seconds.
 * `ORCH_BENCH_SHAPES=anchor,small npm run bench -- large-inputs` measures only the shapes whose
 * names contain one of the words. Each command's and the server's opening CPU seconds are reported
 * beside their wall seconds: on a box other work shares, those are the figures to compare.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { childrenCpuS, smoke, type BenchFigure } from './figure.js';
import { layeredSource } from './large.js';
import { processCpuMs, startLspServer } from './lsp-server.js';

const ECHO = 'capability echo { kind tool input { value: any } output { value: any } latency 1ms }\n';

/** About `bytes` of small independent plans, one capability between them. */
export function manySmallPlans(bytes: number): string {
  const parts = [ECHO];
  let size = ECHO.length;
  for (let i = 0; size < bytes; i++) {
    const p = `plan p${i} {\n  input { a: int }\n  step s = echo(value: input.a)\n  output { v: s.output }\n}\n`;
    parts.push(p);
    size += p.length;
  }
  return parts.join('');
}

const EXAMPLE = fileURLToPath(new URL('../../examples/incident_response/incident.orch', import.meta.url));

/**
 * About `bytes` of one example repeated, its `module` line with it: thousands of duplicate
 * declarations, each an E0102 (the shape of a file made by concatenation).
 */
export function oneExampleRepeated(bytes: number): string {
  const one = readFileSync(EXAMPLE, 'utf8');
  return Array.from({ length: Math.max(2, Math.ceil(bytes / (one.length + 1))) }, () => one).join('\n');
}

/** One call of `n` named arguments to a capability of `n` parameters. */
export function manyArguments(n: number): string {
  const fields = Array.from({ length: n }, (_, i) => `a${i}: int`).join(', ');
  const args = Array.from({ length: n }, (_, i) => `a${i}: ${i}`).join(', ');
  return `capability wide { kind tool input { ${fields} } output { v: int } latency 1ms }\nplan p {\n  step s = wide(${args})\n  output { v: s.output.v }\n}\n`;
}

/** A step documented by `n` lines of `///`. */
export function manyDocLines(n: number): string {
  const doc = Array.from({ length: n }, (_, i) => `  /// line ${i} of the step's documentation`).join('\n');
  return `${ECHO}plan p {\n${doc}\n  step s = echo(value: 1)\n  output { v: s.output }\n}\n`;
}

/** One argument of `n` terms joined by `??`. */
export function longCoalesce(n: number): string {
  const chain = Array.from({ length: n }, () => 'input.a').join(' ?? ');
  return `${ECHO}plan p {\n  input { a: int }\n  step s = echo(value: ${chain})\n  output { v: s.output }\n}\n`;
}

/**
 * The anchor: a 100,000-step plan (bench/large.ts's layered DAG), an input whose time was
 * already linear. Absolute seconds move with the machine's load; a shape's ratio to the anchor
 * measured in the same run does much less (docs/architecture.md has the anchor's quiet-box figure).
 */
const ANCHOR = '100,000-step plan (anchor)';

/** Each shape's size (smoke mode: tiny ones, the names kept). */
const n = (full: number): number => smoke(full, full / 1000);

const SHAPES: readonly { name: string; text: () => string }[] = [
  { name: ANCHOR, text: () => layeredSource(n(1000)) },
  { name: '10 MB of small plans', text: () => manySmallPlans(n(10_000_000)) },
  { name: '10 MB of one example repeated (duplicate declarations)', text: () => oneExampleRepeated(n(10_000_000)) },
  { name: '100,000 arguments in one call', text: () => manyArguments(n(100_000)) },
  { name: '100,000 `///` lines', text: () => manyDocLines(n(100_000)) },
  { name: '100,000-term `??` chain', text: () => longCoalesce(n(100_000)) },
];

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));
const TARGET_S = 5;
/** A measurement stops here: the figure is then this many seconds, marked "gave up". */
const GIVE_UP_S = 120;


/** CPU seconds of the last `orch` command `wall` timed. */
let lastCpu = NaN;

/** Wall seconds of one `orch` process, or null when it was stopped at GIVE_UP_S; its CPU into `lastCpu`. */
function wall(args: string[]): number | null {
  const t0 = performance.now();
  const c0 = childrenCpuS();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: GIVE_UP_S * 1000, killSignal: 'SIGKILL' });
  const s = (performance.now() - t0) / 1000;
  lastCpu = childrenCpuS() - c0;
  if (r.status === null) return null;
  return s;
}

function figure(name: string, seconds: number | null): BenchFigure {
  if (seconds === null) return { name: `${name} — gave up after ${GIVE_UP_S} s`, value: GIVE_UP_S, unit: 's', target: `≤ ${TARGET_S} s`, met: false };
  return { name, value: seconds, unit: 's', target: `≤ ${TARGET_S} s`, met: seconds <= TARGET_S };
}

/** The server's CPU seconds (all threads) from didOpen to its first diagnostics, in the last `lsp` call. */
let lspOpenCpu = NaN;

/**
 * Seconds from didOpen to the first diagnostics, then from a one-character edit to the next,
 * then for `textDocument/formatting` of the edited text, then for `textDocument/rangeFormatting`
 * of 20 lines in its middle (null: no answer within GIVE_UP_S).
 */
export async function lsp(file: string, text: string): Promise<[number | null, number | null, number | null, number | null]> {
  const server = startLspServer();
  lspOpenCpu = NaN;
  const { conn } = server;
  const uri = pathToFileURL(file).href;
  let published: () => void = () => undefined;
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string }) => {
    if (p.uri === uri) published();
  });
  conn.listen();
  try {
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await conn.sendNotification('initialized', {});
    const within = (p: Promise<void>) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), GIVE_UP_S * 1000).unref())]);
    let next = new Promise<void>((resolve) => (published = resolve));
    let t0 = performance.now();
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'orch', version: 1, text } });
    const cpu0 = processCpuMs(server.pid);
    if (!(await within(next))) return [null, null, null, null];
    const open = (performance.now() - t0) / 1000;
    lspOpenCpu = (processCpuMs(server.pid) - cpu0) / 1000;
    // A space typed at the end of the file's last line but one.
    const lines = text.split('\n');
    const line = lines.length - 2;
    const at = { line, character: lines[line]!.length };
    next = new Promise<void>((resolve) => (published = resolve));
    t0 = performance.now();
    await conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: at, end: at }, text: ' ' }] });
    if (!(await within(next))) return [open, null, null, null];
    const edit = (performance.now() - t0) / 1000;
    t0 = performance.now();
    let answered = false;
    const formatting = conn
      .sendRequest('textDocument/formatting', { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })
      .then(() => {
        answered = true;
      });
    if (!(await within(formatting)) || !answered) return [open, edit, null, null];
    const formatted = (performance.now() - t0) / 1000;
    const middle = Math.floor(lines.length / 2);
    t0 = performance.now();
    answered = false;
    const ranged = conn
      .sendRequest('textDocument/rangeFormatting', { textDocument: { uri }, range: { start: { line: middle, character: 0 }, end: { line: middle + 20, character: 0 } }, options: { tabSize: 2, insertSpaces: true } })
      .then(() => {
        answered = true;
      });
    if (!(await within(ranged)) || !answered) return [open, edit, formatted, null];
    return [open, edit, formatted, (performance.now() - t0) / 1000];
  } finally {
    // A server still busy with a file it gave up on may not answer `shutdown`: `npm run bench`
    // ends this process (and with it the server) when the area is done.
    await Promise.race([server.stop(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  }
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-large-inputs-'));
  // The anchor's capability names a handler module: `check` resolves it.
  writeFileSync(join(dir, 'noop.js'), 'export const noop = (input) => input;\n');
  const figures: BenchFigure[] = [];
  let anchor: { check: number | null; fmt: number | null; open: number | null } | undefined;
  const only = process.env.ORCH_BENCH_SHAPES?.split(',').map((s) => s.trim()).filter(Boolean);
  try {
    // Smoke mode: the anchor and one shape (the ratio's code path too), tiny.
    for (const shape of smoke(SHAPES, SHAPES.slice(0, 2))) {
      // ORCH_BENCH_SHAPES=anchor,small: only the shapes whose names contain one of these.
      if (only && !only.some((o) => shape.name.toLowerCase().includes(o.toLowerCase()))) continue;
      const text = shape.text();
      const file = join(dir, 'input.orch');
      writeFileSync(file, text);
      const mb = (text.length / 1e6).toFixed(1);
      const check = wall(['check', file]);
      const checkCpu = lastCpu;
      const fmt = wall(['fmt', '--check', file]);
      const fmtCpu = lastCpu;
      // `orch fmt` rewrites a copy; `--check` of the copy then compares every line.
      const formatted = join(dir, 'formatted.orch');
      writeFileSync(formatted, text);
      const write = wall(['fmt', formatted]);
      const writeCpu = lastCpu;
      const checkFormatted = wall(['fmt', '--check', formatted]);
      const checkFormattedCpu = lastCpu;
      const [open, edit, formatting, rangeFormatting] = await lsp(file, text);
      // Beside each wall figure, its CPU: on a loaded box the wall says little, the CPU what a quiet one would take.
      const cpu = (what: string, s: number): BenchFigure => ({ name: `${what}, ${shape.name}: CPU (user + sys, all threads)`, value: s, unit: 's', target: '', met: true });
      figures.push(figure(`orch check, ${shape.name} (${mb} MB, wall incl. start-up)`, check));
      figures.push(cpu('orch check', checkCpu), cpu('orch fmt --check', fmtCpu), cpu('orch fmt (writing a copy)', writeCpu));
      figures.push(cpu('orch fmt --check of the formatted copy', checkFormattedCpu), cpu('LSP diagnostics after opening', lspOpenCpu));
      figures.push(figure(`orch fmt --check, ${shape.name}`, fmt));
      figures.push(figure(`orch fmt (writing a copy), ${shape.name}`, write));
      figures.push(figure(`orch fmt --check of the formatted copy, ${shape.name}`, checkFormatted));
      figures.push(figure(`LSP diagnostics after opening, ${shape.name}`, open));
      figures.push(figure(`LSP diagnostics after a one-character edit, ${shape.name}`, edit));
      figures.push(figure(`LSP textDocument/formatting after the edit, ${shape.name}`, formatting));
      figures.push(figure(`LSP textDocument/rangeFormatting of 20 lines mid-file, ${shape.name}`, rangeFormatting));
      if (shape.name === ANCHOR) anchor = { check, fmt, open };
      else if (anchor) {
        // Each against the anchor's `check`, the figure whose quiet-box seconds are recorded.
        const against = [['check', check], ['fmt --check', fmt], ['fmt (writing)', write], ['fmt --check formatted', checkFormatted], ['LSP open', open], ['LSP formatting', formatting]] as const;
        for (const [what, s] of against) {
          if (s !== null && anchor.check !== null) figures.push({ name: `${what}, ${shape.name} ÷ anchor's check (same run)`, value: s / anchor.check, unit: '×', target: '', met: true });
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
