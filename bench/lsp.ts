/**
 * Language-server latency on a 5,000-line file, over real stdio JSON-RPC:
 * - diagnostics: a one-character edit → the publishDiagnostics for that version (the server
 *   started with its debounce at 0, so this is the re-check itself; editors add the configured
 *   `orch.diagnostics.delay`, 150 ms by default, after the last keystroke). Twice: a character
 *   replaced (nothing after it moves) and typing — a character inserted, then deleted, so every
 *   position after the edit moves;
 * - completion: a completion request inside a plan, answered from the lexical context and the
 *   name index (no re-parse wait) — idle, and right after an edit while the re-check runs on
 *   the server's worker thread;
 * - inlay hints (resource and estimate after every step): one screen, as editors ask, idle and
 *   right after an edit (answered from the previous compile while the estimate worker compiles
 *   the new text), and the whole file at once — its wall time and the server main thread's CPU,
 *   beside what else the wall holds: the whole server's CPU in that time (the estimate worker
 *   compiling the edited text takes the cores) and this process's decoding of the ~400 KB answer.
 * The edits are measured twice more: on the 5,000-line file with a CPU hog beside the server (a
 * second process spinning on one core: the box then has no idle core), and on a 20,000-line file.
 * `ORCH_BENCH_LSP=inlay` measures the 5,000-line file's inlay-hint figures alone (a few seconds
 * instead of minutes: for A/B runs of the hints).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { smoke, type BenchFigure } from './figure.js';
import { mainThreadCpuMs, processCpuMs, startLspServer } from './lsp-server.js';

/** Capabilities of `largeModule(lines)`: cap_0 … cap_(n-1). */
const capabilityCount = (lines: number): number => Math.max(5, Math.min(80, Math.floor(lines / 60)));

/**
 * A realistic module of about `lines` lines: capabilities, resources, plans of chained steps. Its
 * handlers are in `handlers.js` beside it (`writeLargeModule`): without that file every
 * capability is an E0104, and the checks timed are not those of a valid file.
 */
export function largeModule(lines: number): string {
  const out: string[] = ['module bench.large', ''];
  out.push('resource edge { kind edge_cluster provides compute concurrency 8 latency 20ms }');
  out.push('resource cloud { kind cloud_region provides compute concurrency 64 cost 0.001usd latency 80ms }', '');
  const caps = capabilityCount(lines);
  for (let i = 0; i < caps; i++) {
    out.push(
      `/// Capability number ${i}.`,
      `capability cap_${i} {`,
      '  kind tool',
      '  input { value: int, label: string = "x" }',
      '  output { value: int, note: string }',
      `  handler "./handlers.js#cap${i}"`,
      '  timeout 10s',
      '  cost 0.001usd',
      '  latency 100ms',
      '  requires compute',
      '}',
      '',
    );
  }
  let plan = 0;
  while (out.length < lines - 10) {
    out.push(`plan plan_${plan} {`, `  goal "Plan number ${plan}"`, '  input { start: int }', '');
    out.push(`  step s0 = cap_0(value: input.start)`);
    for (let s = 1; s < 300 && out.length < lines - 4; s++) {
      out.push(`  step s${s} = cap_${s % caps}(value: s${s - 1}.output.value, label: "step ${s}")`);
    }
    out.push('}', '');
    plan++;
  }
  return `${out.join('\n')}\n`;
}

/** Writes `large.orch` (`largeModule(lines)`) and its handler module into `dir`; its path and text. */
export function writeLargeModule(dir: string, lines: number): { file: string; text: string } {
  const file = join(dir, 'large.orch');
  const text = largeModule(lines);
  writeFileSync(file, text);
  const handlers = Array.from({ length: capabilityCount(lines) }, (_, i) => `export async function cap${i}(input) {\n  return { value: input.value, note: input.label };\n}\n`);
  writeFileSync(join(dir, 'handlers.js'), handlers.join(''));
  return { file, text };
}

/** Timed edits per diagnostics figure (after the JIT warm-up edits). */
const EDITS = smoke(100, 2);
/** Only the inlay-hint series of the 5,000-line file (`ORCH_BENCH_LSP=inlay`). */
const INLAY_ONLY = process.env.ORCH_BENCH_LSP === 'inlay';
/** Requests timed per completion and inlay-hint figure, after `WARM` untimed ones. */
const REQUESTS = smoke(50, 1);
const WARM = smoke(10, 1);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Samples {
  readonly diagnostics: number[];
  /** Typing: a character inserted, then deleted (every position after the edit moves). */
  readonly typing: number[];
  readonly completion: number[];
  readonly busy: number[];
  /** Inlay hints for the whole file, the compilation cached (scrolling, re-render). */
  readonly inlay: number[];
  /** The server main thread's CPU ms over each whole-file request (what load does not inflate much). */
  readonly inlayCpu: number[];
  /**
   * The whole server's CPU (every thread, 10 ms ticks) over the same requests: the estimate
   * worker compiling the edited text meanwhile takes the cores the request needs.
   */
  readonly inlayServerCpu: number[];
  /** This process's `JSON.parse` of a whole-file answer: part of the wall time, not the server's. */
  readonly inlayDecode: number[];
  /** Inlay hints of one screen (60 lines), as editors ask for them. */
  readonly inlayScreen: number[];
  /** One screen's hints right after an edit (the previous compile's values; a new one starts). */
  readonly inlayAfterEdit: number[];
}

/** A process that keeps one core busy until stopped (another program building beside the editor). */
function cpuHog(): { stop(): Promise<void> } {
  const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => hog.once('exit', () => r()));
  return {
    stop: async () => {
      hog.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Latency samples (ms) over stdio against a server holding a `lines`-line file; `editsOnly`
 * measures the two edit series and stops there.
 */
async function measure(lines: number, editsOnly = false): Promise<Samples> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-bench-lsp-'));
  const { file, text } = writeLargeModule(dir, lines);
  const uri = pathToFileURL(file).href;
  const server = startLspServer();
  const conn = server.conn;
  const published = new Map<number, () => void>();
  let problems: unknown[] = [];
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: unknown[] }) => {
    if (p.uri !== uri || p.version === undefined) return;
    problems = p.diagnostics;
    published.get(p.version)?.();
  });
  conn.listen();
  const waitFor = (version: number) => new Promise<void>((resolve) => published.set(version, resolve));
  try {
    await conn.sendRequest('initialize', { processId: process.pid, rootUri: pathToFileURL(dir).href, capabilities: {} });
    await conn.sendNotification('initialized', {});
    let version = 1;
    const first = waitFor(1);
    await conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'orch', version, text } });
    await first;
    // The figures are those of re-checking a valid file.
    if (problems.length > 0) throw new Error(`the bench file has ${problems.length} diagnostics, e.g. ${JSON.stringify(problems[0])}`);

    // The goal string of the first plan: `Plan number 0` — toggle one character in it.
    const rows = text.split('\n');
    const goalLine = rows.findIndex((l) => l.includes('goal "Plan number 0"'));
    const col = rows[goalLine]!.indexOf('0"');
    // 100 timed edits each: over fewer, the "p95" is the second-slowest of a handful.
    const diagnostics: number[] = [];
    for (let i = 0; i < (INLAY_ONLY ? 0 : EDITS + 5); i++) {
      version++;
      const done = waitFor(version);
      const t0 = performance.now();
      await conn.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: goalLine, character: col }, end: { line: goalLine, character: col + 1 } }, text: String(i % 10) }],
      });
      await done;
      if (i >= 5) diagnostics.push(performance.now() - t0); // first edits warm the JIT
    }

    const typing: number[] = [];
    for (let i = 0; i < (INLAY_ONLY ? 0 : EDITS + 4); i++) {
      version++;
      const done = waitFor(version);
      const t0 = performance.now();
      const insert = i % 2 === 0;
      const at = { line: goalLine, character: col };
      await conn.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [insert ? { range: { start: at, end: at }, text: 'x' } : { range: { start: at, end: { line: goalLine, character: col + 1 } }, text: '' }],
      });
      await done;
      if (i >= 4) typing.push(performance.now() - t0);
    }
    if (editsOnly) return { diagnostics, typing, completion: [], busy: [], inlay: [], inlayCpu: [], inlayServerCpu: [], inlayDecode: [], inlayScreen: [], inlayAfterEdit: [] };

    const stepLine = rows.findIndex((l) => l.includes('step s5 ='));
    const completion: number[] = [];
    for (let i = 0; i < (INLAY_ONLY ? 0 : WARM + REQUESTS); i++) {
      const t0 = performance.now();
      await conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: stepLine, character: rows[stepLine]!.indexOf('s4.output.') + 's4.output.'.length } });
      if (i >= WARM) completion.push(performance.now() - t0);
    }
    // Completion right after an edit, while the re-check of the edited file is running.
    const busy: number[] = [];
    for (let i = 0; i < (INLAY_ONLY ? 0 : smoke(20, 1)); i++) {
      version++;
      const done = waitFor(version);
      await conn.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: goalLine, character: col }, end: { line: goalLine, character: col + 1 } }, text: String(i % 10) }],
      });
      await new Promise((r) => setTimeout(r, 20)); // let the check start
      const t0 = performance.now();
      await conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: stepLine, character: rows[stepLine]!.indexOf('s4.output.') + 's4.output.'.length } });
      busy.push(performance.now() - t0);
      await done;
    }
    const whole = { start: { line: 0, character: 0 }, end: { line: rows.length, character: 0 } };
    const screen = { start: { line: stepLine, character: 0 }, end: { line: stepLine + 60, character: 0 } };
    const inlay: number[] = [];
    const inlayCpu: number[] = [];
    const inlayServerCpu: number[] = [];
    const inlayDecode: number[] = [];
    const inlayScreen: number[] = [];
    const inlayAfterEdit: number[] = [];
    await conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range: whole }); // the first compile
    for (let i = 0; i < smoke(43, 4); i++) {
      version++;
      const done = waitFor(version);
      await conn.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: goalLine, character: col }, end: { line: goalLine, character: col + 1 } }, text: String(i % 10) }],
      });
      await done;
      let t0 = performance.now();
      const hints = await conn.sendRequest<unknown[]>('textDocument/inlayHint', { textDocument: { uri }, range: screen });
      if (i >= 3) inlayAfterEdit.push(performance.now() - t0);
      if (hints.length === 0) throw new Error('the server returned no inlay hints for the bench file');
      await new Promise((r) => setTimeout(r, 50));
      t0 = performance.now();
      await conn.sendRequest('textDocument/inlayHint', { textDocument: { uri }, range: screen });
      if (i >= 3) inlayScreen.push(performance.now() - t0);
      t0 = performance.now();
      const cpu0 = mainThreadCpuMs(server.pid);
      const all0 = processCpuMs(server.pid);
      const answer = await conn.sendRequest<unknown[]>('textDocument/inlayHint', { textDocument: { uri }, range: whole });
      if (i >= 3) inlay.push(performance.now() - t0);
      if (i >= 3) inlayCpu.push(mainThreadCpuMs(server.pid) - cpu0);
      if (i >= 3) inlayServerCpu.push(processCpuMs(server.pid) - all0);
      // The same decoding the connection did on receipt, timed alone.
      const json = JSON.stringify(answer);
      const d0 = performance.now();
      JSON.parse(json);
      if (i >= 3) inlayDecode.push(performance.now() - d0);
    }
    return { diagnostics, typing, completion, busy, inlay, inlayCpu, inlayServerCpu, inlayDecode, inlayScreen, inlayAfterEdit };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The inlay-hint figures of one measured file. */
function inlayFigures(s: Samples, size: string): BenchFigure[] {
  return [
    { name: `LSP inlay hints, one screen (60 lines) of a ${size}, p95`, value: percentile(s.inlayScreen, 95), unit: 'ms', target: '≤ 50 ms', met: percentile(s.inlayScreen, 95) <= 50 },
    { name: `LSP inlay hints, one screen right after an edit, ${size}, p95`, value: percentile(s.inlayAfterEdit, 95), unit: 'ms', target: '≤ 50 ms', met: percentile(s.inlayAfterEdit, 95) <= 50 },
    { name: `LSP inlay hints, the whole ${size} (every step), p50`, value: percentile(s.inlay, 50), unit: 'ms', target: '', met: true },
    { name: `LSP inlay hints, the whole ${size} (every step), p95`, value: percentile(s.inlay, 95), unit: 'ms', target: '≤ 50 ms', met: percentile(s.inlay, 95) <= 50 },
    { name: `LSP inlay hints, the whole ${size}: the server main thread's CPU per request, p50`, value: percentile(s.inlayCpu, 50), unit: 'ms', target: '', met: true },
    { name: `LSP inlay hints, the whole ${size}: the whole server's CPU (all threads) during a request, p50`, value: percentile(s.inlayServerCpu, 50), unit: 'ms', target: '', met: true },
    { name: `LSP inlay hints, the whole ${size}: the bench's own JSON.parse of the answer, p50`, value: percentile(s.inlayDecode, 50), unit: 'ms', target: '', met: true },
  ];
}

export async function bench(): Promise<readonly BenchFigure[]> {
  const figures: BenchFigure[] = [];
  // In smoke mode every series once, on small files.
  const [large, small, larger] = smoke([5000, 200, 20_000], [300, 100, 300]);
  if (INLAY_ONLY) {
    const s = await measure(large);
    return inlayFigures(s, `${large.toLocaleString('en-US')}-line file`);
  }
  for (const lines of [large, small]) {
    const s = await measure(lines);
    const size = `${lines.toLocaleString('en-US')}-line file`;
    const d95 = percentile(s.diagnostics, 95);
    const c95 = percentile(s.completion, 95);
    const b95 = percentile(s.busy, 95);
    figures.push(
      { name: `LSP diagnostics after a 1-char edit, ${size}, p50`, value: percentile(s.diagnostics, 50), unit: 'ms', target: '', met: true },
      { name: `LSP diagnostics after a 1-char edit, ${size}, p95`, value: d95, unit: 'ms', target: '≤ 50 ms', met: d95 <= 50 },
      { name: `LSP diagnostics while typing (insert/delete a char), ${size}, p50`, value: percentile(s.typing, 50), unit: 'ms', target: '', met: true },
      { name: `LSP diagnostics while typing (insert/delete a char), ${size}, p95`, value: percentile(s.typing, 95), unit: 'ms', target: '≤ 50 ms', met: percentile(s.typing, 95) <= 50 },
      { name: `LSP completion, ${size}, p50`, value: percentile(s.completion, 50), unit: 'ms', target: '', met: true },
      { name: `LSP completion, ${size}, p95`, value: c95, unit: 'ms', target: '≤ 20 ms', met: c95 <= 20 },
      { name: `LSP completion during a re-check, ${size}, p95`, value: b95, unit: 'ms', target: '≤ 20 ms', met: b95 <= 20 },
      ...inlayFigures(s, size),
    );
  }
  const edits = (s: Samples, size: string, target: boolean): BenchFigure[] => {
    const d95 = percentile(s.diagnostics, 95);
    const t95 = percentile(s.typing, 95);
    const goal = target ? '≤ 50 ms' : '';
    return [
      { name: `LSP diagnostics after a 1-char edit, ${size}, p50`, value: percentile(s.diagnostics, 50), unit: 'ms', target: '', met: true },
      { name: `LSP diagnostics after a 1-char edit, ${size}, p95`, value: d95, unit: 'ms', target: goal, met: !target || d95 <= 50 },
      { name: `LSP diagnostics while typing (insert/delete a char), ${size}, p95`, value: t95, unit: 'ms', target: goal, met: !target || t95 <= 50 },
    ];
  };
  const hog = cpuHog();
  try {
    figures.push(...edits(await measure(large, true), `${large.toLocaleString('en-US')}-line file, a CPU hog beside it`, true));
  } finally {
    await hog.stop();
  }
  // Usable, not a target: four times the file above.
  figures.push(...edits(await measure(larger, true), `${larger.toLocaleString('en-US')}-line file`, false));
  return figures;
}
