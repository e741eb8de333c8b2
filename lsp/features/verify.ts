/**
 * "Verify Plan" in the editor (`orch/verify`): runs the verifier over a document's plans and
 * turns each violated invariant into a diagnostic on the invariant's name (built-in invariants,
 * which have no declaration, on the plan's name), with the breaking step as related information.
 */
import { basename } from 'node:path';
import type { Diagnostic as LspDiagnostic, Range as LspRange } from 'vscode-languageserver';
import type { SourceHost } from '../../compiler/index.js';
import { replayFlags, shellWord, verifyFile, type Counterexample, type VerifyResult } from '../../verify/index.js';
import type { DeclarationTable } from '../symbol-index/model.js';
import { pathToUri, toLspRange } from '../convert.js';

export const VERIFY_REQUEST = 'orch/verify';
/** `workspace/executeCommand` name of the same verification. */
export const VERIFY_COMMAND = 'orch.verify';
/** Code of a verification diagnostic: not a compiler code (`orch check` never reports it). */
export const VERIFY_CODE = 'V0801';
export const VERIFY_SOURCE = 'orch verify';

export interface VerifyParams {
  readonly uri: string;
  /** Only this plan (default: every plan of the document). */
  readonly plan?: string;
  readonly runs?: number;
  readonly seed?: number;
}

/** What the worker computes: plain data, cheap to copy across threads. */
export type VerifyOutcome =
  | { readonly ok: true; readonly results: readonly VerifyResult[] }
  | { readonly ok: false; readonly error: string };

export interface VerifyOptionsIn {
  readonly plan?: string;
  readonly runs?: number;
  readonly seed?: number;
}

/** Verifies `entry` over `host`; never throws — a document that cannot be verified says why. */
export async function verifyDocument(entry: string, host: SourceHost, options: VerifyOptionsIn): Promise<VerifyOutcome> {
  const out = await verifyFile(entry, {
    host,
    ...(options.plan !== undefined ? { plan: options.plan } : {}),
    ...(options.runs !== undefined ? { runs: options.runs } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  if (out.ok) return { ok: true, results: out.results };
  const reason = out.reason;
  if (reason.kind === 'io-error') return { ok: false, error: reason.message };
  const n = reason.diagnostics.length;
  return { ok: false, error: `the document has ${n} error${n === 1 ? '' : 's'}; fix ${n === 1 ? 'it' : 'them'} before verifying` };
}

/** Sanitised request options: junk from a client becomes "use the default". */
export function verifyOptions(p: Partial<VerifyParams>): VerifyOptionsIn {
  const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);
  const runs = int(p.runs);
  const seed = int(p.seed);
  return {
    ...(typeof p.plan === 'string' && p.plan ? { plan: p.plan } : {}),
    ...(runs !== undefined && runs > 0 ? { runs } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/** The answer to `orch/verify`: the results without traces (those stay in `orch verify --json`). */
export interface VerifySummary {
  readonly uri: string;
  readonly ok: boolean;
  /** Why nothing was verified (compile errors, unknown plan). */
  readonly error?: string;
  /** The document or an import changed, or a newer verification began: nothing was published. */
  readonly stale?: boolean;
  readonly plans: readonly {
    readonly plan: string;
    readonly ok: boolean;
    readonly seed: number;
    readonly runs: number;
    readonly paths: number;
    readonly invariants: readonly { readonly name: string; readonly builtin: boolean; readonly status: 'holds' | 'violated' }[];
    readonly violations: readonly { readonly invariant: string; readonly message: string; readonly seed: number; readonly path: string; readonly range?: LspRange }[];
  }[];
}

export function summarize(uri: string, outcome: VerifyOutcome, stale: boolean): VerifySummary {
  if (!outcome.ok) return { uri, ok: false, error: outcome.error, plans: [] };
  return {
    uri,
    ok: outcome.results.every((r) => r.ok),
    ...(stale ? { stale: true } : {}),
    plans: outcome.results.map((r) => ({
      plan: r.plan,
      ok: r.ok,
      seed: r.seed,
      runs: r.runs,
      paths: r.paths,
      invariants: r.invariants.map((i) => ({ name: i.name, builtin: i.builtin, status: i.status })),
      violations: r.violations.map((v) => ({
        invariant: v.invariant,
        message: v.message,
        seed: v.seed,
        path: v.path,
        ...(v.range ? { range: toLspRange(v.range) } : {}),
      })),
    })),
  };
}

/**
 * One error per violation of a plan in `path`: on the invariant's name, or the plan's name for
 * built-ins. `table` (the document's declarations) places built-ins and the breaking step;
 * `options`, what the search was asked for, shape the replay line as `orch verify`'s.
 */
export function verifyDiagnostics(outcome: VerifyOutcome, path: string, table: DeclarationTable | undefined, options: VerifyOptionsIn = {}): LspDiagnostic[] {
  if (!outcome.ok) return [];
  const out: LspDiagnostic[] = [];
  for (const result of outcome.results) {
    const plan = table?.topLevel.get(result.plan);
    const planRange = plan?.kind === 'plan' ? plan.nameRange : undefined;
    for (const v of result.violations) {
      const range = v.range && v.file === path ? v.range : planRange;
      const diag: LspDiagnostic = {
        range: range ? toLspRange(range) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: 1,
        code: VERIFY_CODE,
        source: VERIFY_SOURCE,
        message: message(result, v, path, options),
      };
      const broke = brokeAt(v);
      const step = broke && plan ? table?.steps.get(plan.key)?.get(broke.step) : undefined;
      if (broke && step) diag.relatedInformation = [{ message: broke.what, location: { uri: pathToUri(path), range: toLspRange(step.nameRange) } }];
      out.push(diag);
    }
  }
  return out;
}

function message(result: VerifyResult, v: Counterexample, path: string, options: VerifyOptionsIn): string {
  // A user invariant's message already names it ("always invariant "x" became false").
  const what = v.builtin ? `built-in invariant "${v.invariant}" violated: ${oneLine(v.message)}` : oneLine(v.message);
  const parts = [`input ${compact(v.input)}`];
  if (Object.keys(v.context).length > 0) parts.push(`context ${compact(v.context)}`);
  parts.push(
    v.choices.length === 0
      ? 'every step succeeds'
      : v.choices.map((c) => `${c.step}${c.item === null ? '' : `[${c.item}]`} attempt ${c.attempt} ${c.outcome === 'fail' ? 'fails' : c.outcome === 'hang' ? 'hangs' : 'is rejected'}`).join(', '),
  );
  return `${what} in plan ${result.plan} — counterexample: ${parts.join('; ')} — replay: orch verify ${shellWord(basename(path))} --plan ${result.plan}${replayFlags({ runs: options.runs })} --seed ${v.seed}`;
}

/** The last step event of the trace: the state after it broke the invariant. */
function brokeAt(v: Counterexample): { step: string; what: string } | undefined {
  for (let i = v.trace.length - 1; i >= 0; i--) {
    const e = v.trace[i]!;
    if (e.step === null) continue;
    const verb = e.type.replace(/^step_/, '');
    return { step: e.step, what: `${e.step}${e.item === null ? '' : `[${e.item}]`} ${verb} at ${e.at_ms}ms — the invariant broke here` };
  }
  return undefined;
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

function compact(v: unknown): string {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

