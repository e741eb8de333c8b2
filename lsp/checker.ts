/**
 * Runs the compiler over a document — reading unsaved buffers of every open file through the
 * compiler's `SourceHost`. Diagnostics come from `check()` on a worker thread; the full
 * `compile()` (bound model, plans) runs in-process on demand for navigation, hover and the
 * preview — its result is too large to copy back from a worker cheaply (structured-cloning the
 * model of a 5,000-line file costs more than compiling it). A result is reused only while no
 * text in the workspace has changed.
 */
import { resolve } from 'node:path';
import { check, compile, isUnusedDeclaration, unusedAcrossChecks, type BoundModel } from '../compiler/index.js';
import type { PlanIR } from '../compiler/index.js';
import type { Diagnostic } from '../language/index.js';
import type { Range as LspRange, TextEdit } from 'vscode-languageserver';
import type { CheckResult as CheckedDiagnostics, CheckWorkerAnswer, CheckWorkerRequest, FormatAnswer, FormatRequest, RangeFormatRequest } from './check-worker.js';
import { uriToPath } from './convert.js';
import type { Workspace } from './workspace.js';
import { WorkerThread } from './worker-thread.js';

export interface CheckResult {
  readonly path: string;
  readonly generation: number;
  /** Diagnostics located in `path` itself (imported files' problems show in those files). */
  readonly diagnostics: readonly Diagnostic[];
  readonly model: BoundModel | undefined;
  readonly plans: readonly PlanIR[];
}

export interface DiagnosticsWithImports {
  readonly diagnostics: readonly Diagnostic[];
  /** The files the checked file imports directly (absolute paths). */
  readonly imports: readonly string[];
}

export class Checker {
  private readonly results = new Map<string, CheckResult>();
  private readonly diagnosticsOnly = new Map<string, { generation: number; diagnostics: readonly Diagnostic[]; imports?: readonly string[]; syntaxErrors?: boolean }>();

  constructor(private readonly workspace: Workspace) {}

  private readonly host = { readFile: (p: string) => this.workspace.textOf(p), parse: (p: string, text: string) => this.workspace.parseFor(p, text) };
  /**
   * A re-check allocates ~20 MB, much of it live until the check ends: with V8's default young
   * generation (16 MB semi-spaces) a scavenge lands mid-check, copies what is live and promotes
   * it, and the old space then fills and needs mark-compacts — the p95 of re-check latency was
   * GC. Room for a whole check makes most of it die young. (Not for the estimate worker: a full
   * compile keeps most of what it allocates, and scavenging that in bigger spaces takes both
   * cores from the server's main thread for longer.)
   */
  private readonly thread = new WorkerThread<CheckWorkerRequest, CheckWorkerAnswer<CheckWorkerRequest>>('check-worker', 192);

  /**
   * Starts the check worker ahead of the first check: a file opened at once (an editor restoring
   * its tabs, the bench's `didOpen` right after `initialized`) no longer waits for the worker's
   * start-up on top of its check — the ~0.4 s of module loading runs while the client's
   * `initialized` and `didOpen` (10 MB of text to read) arrive.
   */
  startWorker(): void {
    this.thread.start();
  }

  /** A request to the check worker, with the answer its kind gets (`CheckWorkerAnswer`); undefined when no worker is available. */
  private ask<Q extends CheckWorkerRequest>(request: Q): Promise<CheckWorkerAnswer<Q>> | undefined {
    // The thread carries the union of the answers; which one comes back is the request's kind.
    return this.thread.request(request) as Promise<CheckWorkerAnswer<Q>> | undefined;
  }

  /**
   * Like `diagnostics`, but computed on the worker thread when one is available, so the server
   * keeps answering other requests during a long check; with the files `path` imports directly.
   * The worker parses `path` for its check: this thread does not parse it again.
   */
  async diagnosticsAsync(path: string): Promise<DiagnosticsWithImports> {
    const generation = this.workspace.generation;
    const full = this.results.get(path);
    if (full && full.generation === generation) return { diagnostics: full.diagnostics, imports: this.workspace.importsOf(path) };
    const hit = this.diagnosticsOnly.get(path);
    if (hit && hit.generation === generation) return { diagnostics: hit.diagnostics, imports: hit.imports ?? this.workspace.importsOf(path) };
    const files: Record<string, string> = {};
    for (const doc of this.workspace.documents.all()) files[uriToPath(doc.uri)] = doc.getText();
    const running = this.ask({ entry: path, files });
    const inProcess = (): DiagnosticsWithImports => ({ diagnostics: this.diagnostics(path), imports: this.workspace.importsOf(path) });
    if (!running) return inProcess();
    let checked: CheckedDiagnostics;
    try {
      checked = await running;
    } catch {
      return inProcess();
    }
    const diagnostics = this.withTestFindings(path, this.usedElsewhereDropped(path, shownIn(path, checked.diagnostics)));
    // Cached under the generation the check started from; a newer state gets a new check.
    this.diagnosticsOnly.set(path, { generation, diagnostics, imports: checked.imports, syntaxErrors: checked.syntaxErrors });
    return { diagnostics, imports: checked.imports };
  }

  /**
   * `format(path, text)`'s text and whether it changed, from the check worker — which formats from
   * its last parse when that was of `text` (the worker checked it: the usual case after an edit).
   * Undefined when no worker is available or it failed: the caller formats in-process.
   */
  formatAsync(path: string, text: string): Promise<FormatAnswer | undefined> {
    return this.formatOnWorker({ format: path, text });
  }

  /**
   * `formatRange(path, text, range)`'s edits, from the check worker — which prints from its last
   * parse when that was of `text`, as `formatAsync`. Undefined when no worker is available or it
   * failed: the caller formats in-process.
   */
  formatRangeAsync(path: string, text: string, range: LspRange): Promise<TextEdit[] | undefined> {
    return this.formatOnWorker({ formatRange: path, text, range });
  }

  /** A formatting request's answer from the check worker; undefined when there is none or it failed. */
  private async formatOnWorker<Q extends FormatRequest | RangeFormatRequest>(request: Q): Promise<CheckWorkerAnswer<Q> | undefined> {
    const running = this.ask(request);
    try {
      return await running;
    } catch {
      return undefined;
    }
  }

  /**
   * True when the worker's check of the workspace's current state found a syntax error in
   * `path` (the formatter leaves such a file alone); undefined when that is not known.
   */
  knownSyntaxErrors(path: string): true | undefined {
    const hit = this.diagnosticsOnly.get(path);
    return hit && hit.generation === this.workspace.generation && hit.syntaxErrors === true ? true : undefined;
  }

  /**
   * W0601 as `orch check` on the workspace's files says it (`unusedAcrossChecks`): a declaration
   * of `path` that a workspace file importing it uses is not unused. Only when there is such a
   * warning are the importers checked (their whole diagnostics, kept for this workspace state).
   */
  private usedElsewhereDropped(path: string, diagnostics: readonly Diagnostic[]): readonly Diagnostic[] {
    if (!diagnostics.some(isUnusedDeclaration)) return diagnostics;
    const importers = this.workspace.filesReferencing(path).filter((f) => f !== path);
    if (!importers.length) return diagnostics;
    // An importer's program loads `path` (it imports it, directly or not).
    const checks = importers.map((entry) => ({ files: [path], diagnostics: this.importerCheck(entry) }));
    const keep = unusedAcrossChecks([{ files: [path], diagnostics }, ...checks]);
    return diagnostics.filter(keep);
  }

  /** Every diagnostic of an importer's check (W0601 of the files it imports included), by entry. */
  private readonly importerChecks = new Map<string, { generation: number; diagnostics: readonly Diagnostic[] }>();

  /** An importer's whole check for this workspace state (kept until the next edit). */
  private importerCheck(entry: string): readonly Diagnostic[] {
    const generation = this.workspace.generation;
    let hit = this.importerChecks.get(entry);
    if (!hit || hit.generation !== generation) {
      hit = { generation, diagnostics: check({ entry, host: this.host }) };
      this.importerChecks.set(entry, hit);
    }
    return hit.diagnostics;
  }

  /**
   * A test in another file finds problems located in `path` — E0906 at the plan's step (§9.2,
   * §9.5) — that `path`'s own check cannot see: `orch check` on the project reports them here, so
   * the editor does too (the test's file shows them as well, see `shownIn`). Only workspace
   * files that import `path` and hold a test block are checked for them.
   */
  private withTestFindings(path: string, diagnostics: readonly Diagnostic[]): readonly Diagnostic[] {
    const testers = this.workspace.filesReferencing(path, (f) => TEST_BLOCK.test(this.workspace.textOf(f) ?? '')).filter((f) => f !== path);
    if (!testers.length) return diagnostics;
    const self = resolve(path);
    const seen = new Set(diagnostics.map(diagnosticKey));
    const out = [...diagnostics];
    for (const tester of testers) {
      const from = resolve(tester);
      for (const d of this.importerCheck(tester)) {
        if (resolve(d.file) !== self || !d.related?.some((r) => resolve(r.file) === from)) continue;
        const k = diagnosticKey(d);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(d);
        }
      }
    }
    return out;
  }

  dispose(): void {
    this.thread.dispose();
  }

  /**
   * Diagnostics of `path` for publishing: the compiler's `check` (what `orch check` runs — no
   * IR assembly, no hover types), unless a full compile of this workspace state already exists.
   */
  diagnostics(path: string): readonly Diagnostic[] {
    const generation = this.workspace.generation;
    const full = this.results.get(path);
    if (full && full.generation === generation) return full.diagnostics;
    const hit = this.diagnosticsOnly.get(path);
    if (hit && hit.generation === generation) return hit.diagnostics;
    const diagnostics = this.withTestFindings(path, this.usedElsewhereDropped(path, shownIn(path, check({ entry: path, host: this.host }))));
    this.diagnosticsOnly.set(path, { generation, diagnostics });
    return diagnostics;
  }

  /** Compiles `path` now (or returns the result for the current workspace state). */
  check(path: string): CheckResult {
    const hit = this.results.get(path);
    if (hit && hit.generation === this.workspace.generation) return hit;
    const generation = this.workspace.generation;
    // With its test blocks, as `check` does: a test's plan, mocks and steps are references too.
    const out = compile({ entry: path, host: this.host, tests: true });
    const result: CheckResult = {
      path,
      generation,
      diagnostics: this.withTestFindings(path, this.usedElsewhereDropped(path, shownIn(path, out.diagnostics))),
      model: out.model,
      plans: out.plans,
    };
    this.results.set(path, result);
    return result;
  }

  model(path: string): BoundModel | undefined {
    if (this.workspace.textOf(path) === undefined) return undefined;
    return this.check(path).model;
  }

  forget(path: string): void {
    this.results.delete(path);
    this.diagnosticsOnly.delete(path);
    this.importerChecks.delete(path);
  }
}

/** A `test "…"` block opens in the file (a cheap look before checking it). */
const TEST_BLOCK = /(^|\n)\s*test\s+"/;

const diagnosticKey = (d: Diagnostic): string => `${d.code}\u0000${d.range.start.offset}\u0000${d.range.end.offset}\u0000${d.message}`;

/**
 * What the editor shows in `path` of a check of it: the diagnostics located in it (an imported
 * file's own problems show in that file), and each located elsewhere whose first related location
 * is in it — a test's E0906 is reported at the plan's step with the test as related information
 * (LANGUAGE.md §9.2), and the plan's own check never finds it, so it would show nowhere. Such a
 * diagnostic is shown at that location, with where `orch check` reports it as related information.
 */
export function shownIn(path: string, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const self = resolve(path);
  const here = (file: string): boolean => file === path || resolve(file) === self;
  const out: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (here(d.file)) out.push(d);
    else if (d.related?.[0] && here(d.related[0].file)) {
      const [cause, ...rest] = d.related;
      out.push({ ...d, file: cause.file, range: cause.range, related: [{ message: `reported here by orch check`, file: d.file, range: d.range }, ...rest] });
    }
  }
  return out;
}
