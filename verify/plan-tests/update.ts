/**
 * `orch test --update FILE` (LANGUAGE.md §9.2): each captured test of FILE (`captured_from`) is
 * run on its plan as it is now under the same mocks, decisions and signals, and captured again
 * from that run (capture.ts): its mocks and `expect` lines are rewritten, the recorded `ir_hash`
 * becomes the plan's, and the lines that changed are reported. Tests without `captured_from` are
 * left as they are.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { boundaryOf, compile, type CompiledTest, type PlanIR } from '../../compiler/index.js';
import { loadConfig, projectRoot, type Executor, type ModelPrice, type RunEvent } from '../../runtime/index.js';
import { captureTest, CaptureError } from './capture.js';
import { runPlanTest } from './run-test.js';

export interface UpdatedTest {
  readonly name: string;
  readonly removed: readonly string[];
  readonly added: readonly string[];
}

export interface UpdateOptions {
  readonly real: Executor | null;
  /** Prices of mock `usage` (default: the config's of each test's project, as `orch test` reads them). */
  readonly prices?: { readonly [model: string]: ModelPrice };
}

/** The file's new text and what changed in each captured test. */
export async function updateCapturedTests(path: string, opts: UpdateOptions): Promise<{ readonly text: string; readonly updated: readonly UpdatedTest[] }> {
  const file = resolve(path);
  const original = readFileSync(file, 'utf8');
  const out = compile({ entry: file, navigation: false, tests: true });
  const errors = out.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CaptureError(`${path} has errors:\n${errors.map((d) => `  ${d.code} ${d.message}`).join('\n')}`);
  const captured = out.tests.filter((t) => t.file === file && t.origin !== null).sort((a, b) => b.range.start.offset - a.range.start.offset);
  let text = original;
  const updated: UpdatedTest[] = [];
  const needed: string[] = [];
  for (const t of captured) {
    const prices = opts.prices ?? (await loadConfig(projectRoot(t.plan.base_dir))).models?.prices ?? {};
    const { block, imports } = await recapture(t, file, { ...opts, prices });
    needed.push(...imports);
    const old = text.slice(t.range.start.offset, t.range.end.offset);
    text = text.slice(0, t.range.start.offset) + block + text.slice(t.range.end.offset);
    const before = lines(old);
    const after = lines(block);
    updated.unshift({ name: t.name, removed: before.filter((l) => !after.includes(l)), added: after.filter((l) => !before.includes(l)) });
  }
  return { text: withImports(text, needed), updated };
}

async function recapture(t: CompiledTest, file: string, opts: UpdateOptions): Promise<{ readonly block: string; readonly imports: readonly string[] }> {
  // A model, tool, channel or network the plan reaches now that no mock answers (a renamed model
  // capability): its answer cannot be made up, and a capture of its refused call would pin that.
  const unmocked = unmockedBoundaries(t);
  if (unmocked.length > 0)
    throw new CaptureError(
      `test "${t.name}": plan ${t.plan.plan} as it is now calls ${unmocked.map((u) => `${u.name} (${u.reaches})`).join(', ')}, which no mock of the test answers: ` +
        `add a mock line for ${unmocked.length === 1 ? 'it' : 'each'} to the test and update again`,
    );
  let journal: readonly RunEvent[] = [];
  const fresh = await runPlanTest({ ...t, stale: [], staleSteps: [], expects: [] }, { real: opts.real, prices: opts.prices ?? {}, onJournal: (events) => (journal = events) });
  // Decisions of a step that is gone decide nothing: the new plan's run may wait on one for good.
  if (!journal.some((e) => e.type === 'execution_completed' || e.type === 'execution_failed' || e.type === 'execution_cancelled'))
    throw new CaptureError(
      `test "${t.name}": the run of plan ${t.plan.plan} as it is now, under the test's mocks, decisions and signals, did not finish, so nothing can be captured from it` +
        `${fresh.failures.length > 0 ? ` (${fresh.failures.map((f) => f.message).join('; ')})` : ''}` +
        `${t.staleSteps.length > 0 ? `; the test names steps the plan no longer has (${t.staleSteps.join(', ')}): write its approve / reject lines for the new steps and update again` : ''}`,
    );
  const { text } = await captureTest({ runId: t.origin!.run, plan: t.plan, events: journal }, { file, name: t.name, keepPersonal: true, prices: opts.prices ?? {} });
  // The block alone: the capture's import of the plan's file is the file's own already; the
  // imports its mocks need (another module, an MCP server) are added to the file where it lacks them.
  const start = text.indexOf('\ntest "') + 1;
  const imports = text.slice(0, start).split('\n').filter((l) => l.startsWith('import ')).slice(1);
  return { block: text.slice(start).replace(/\n$/, ''), imports };
}

/** The boundaries (§9.2: a model, MCP tool, channel, `http_request`) the test's plan, sub-plans included, can call with no mock of the test answering. */
function unmockedBoundaries(t: CompiledTest): { readonly name: string; readonly reaches: string }[] {
  const mocked = (cap: string) => t.mocks.some((m) => m.capability === cap || m.capability === t.refines?.[cap]);
  const out = new Map<string, string>();
  const each = (plan: PlanIR): void => {
    for (const [name, ir] of Object.entries(plan.capabilities)) {
      const reaches = boundaryOf(ir);
      if (reaches !== null && !mocked(name)) out.set(name, reaches);
    }
    for (const sub of Object.values(plan.subplans)) each(sub);
  };
  each(t.plan);
  return [...out].map(([name, reaches]) => ({ name, reaches }));
}

/** `text` with each of `imports` it does not have, after its last import line (else first). */
function withImports(text: string, imports: readonly string[]): string {
  const have = new Set(text.split('\n').map((l) => l.trim()));
  const missing = [...new Set(imports)].filter((l) => !have.has(l));
  if (missing.length === 0) return text;
  const lines = text.split('\n');
  let at = 0;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.startsWith('import ')) at = i + 1;
  lines.splice(at, 0, ...missing);
  return lines.join('\n');
}

function lines(block: string): string[] {
  return block.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}
