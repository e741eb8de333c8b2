/**
 * Trigger checks (E0701): the plan must exist, a schedule must be a valid cron expression in a
 * valid time zone (croner), conditions must be bool, and `with { … }` must match the plan input
 * (no unknown fields, every required field, right types). Schedule, condition and chain triggers
 * start a plan with no payload, so a plan with required inputs needs `with`; manual, api and
 * event triggers take the input from the request / event.
 */
import { Cron } from 'croner';
import type { Range, TriggerDecl, TriggerSource } from '../language/index.js';
import { diagnostic, type Diagnostic } from '../language/index.js';
import { runOutputTy } from './check/declare-steps.js';
import { checkExpr, type RootInfo } from './check/expr.js';
import { mismatchDiagnostic } from './check/mismatch.js';
import type { LoadedModule } from './load.js';
import type { ModelBuilder } from './model.js';
import type { DeclEntry, Scopes } from './scope.js';
import { closest } from './suggest.js';
import { T, assignable, field, formatTy, optional, record, type Ty } from './types/ty.js';

/** Paths the built-in API and the dashboard own (`orch serve`); an `api` trigger may not shadow them. */
const RESERVED_API = /^\/($|(health|metrics|events|signals|context|triggers|runs|stream|session|sessions|login|ui|approvals|resources|workers|spend|audit|auth|sources)(\/|$))/;

/** Why `path` cannot be an `api` trigger's route, or null: `orch check` and `orch serve` ask the same. */
export function apiPathProblem(path: string): string | null {
  if (!path.startsWith('/')) return `api path "${path}" must start with "/"`;
  if (RESERVED_API.test(path)) return `api path "${path}" is reserved by orch serve`;
  if (/[:*]/.test(path)) return `api path "${path}" may not contain ":" or "*"`;
  return null;
}

export function checkTriggers(
  modules: readonly LoadedModule[],
  scopes: Scopes,
  model: ModelBuilder,
  diags: Diagnostic[],
  planInput: (e: DeclEntry<'plan'>) => Ty,
  contextRoot: RootInfo,
  planOutput: (e: DeclEntry<'plan'>) => Ty | null | undefined,
): void {
  for (const m of modules) {
    if (m.std) continue;
    // One module's triggers are served together: two `api` triggers on one path cannot both be.
    const apiPaths = new Map<string, string>();
    for (const e of scopes.entries(m, 'trigger')) {
      checkTrigger(e.node, m, scopes, model, diags, planInput, contextRoot, planOutput);
      const src = e.node.source;
      if (src.kind !== 'ApiSource') continue;
      const path = src.path.parts.filter((p) => typeof p === 'string').join('');
      const other = apiPaths.get(path);
      if (other !== undefined && !apiPathProblem(path))
        diags.push(diagnostic('E0701', `trigger "${e.node.name.name}": api path "${path}" is already trigger "${other}"'s`, m.file, src.path.range));
      else apiPaths.set(path, e.node.name.name);
    }
  }
  chainCycles(modules, scopes, diags);
}

/**
 * `after P … run Q` triggers whose chain leads back to P would start runs for ever: Orch has no
 * unbounded loop (LANGUAGE.md §7.1), so each trigger on such a cycle is E0701, naming the cycle.
 */
function chainCycles(modules: readonly LoadedModule[], scopes: Scopes, diags: Diagnostic[]): void {
  interface Edge { readonly from: DeclEntry<'plan'>; readonly to: DeclEntry<'plan'>; readonly trigger: TriggerDecl; readonly file: string }
  const edges: Edge[] = [];
  for (const m of modules) {
    if (m.std) continue;
    for (const e of scopes.entries(m, 'trigger')) {
      const src = e.node.source;
      if (src.kind !== 'ChainSource') continue;
      const from = scopes.lookup(m, 'plan', src.plan.parts.map((p) => p.name));
      const to = scopes.lookup(m, 'plan', e.node.plan.parts.map((p) => p.name));
      if (from && to) edges.push({ from, to, trigger: e.node, file: m.file });
    }
  }
  if (edges.length === 0) return;
  const out = new Map<DeclEntry<'plan'>, Edge[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  for (const e of edges) {
    // Breadth-first from the plan it starts back to the plan it watches: the shortest way round.
    const via = new Map<DeclEntry<'plan'>, Edge>();
    const queue = [e.to];
    let found = e.to === e.from;
    for (let i = 0; i < queue.length && !found; i++)
      for (const next of out.get(queue[i]!) ?? []) {
        if (via.has(next.to) || next.to === e.to) continue;
        via.set(next.to, next);
        if (next.to === e.from) {
          found = true;
          break;
        }
        queue.push(next.to);
      }
    if (!found) continue;
    const names = [e.from.node.name.name, e.to.node.name.name];
    const back: string[] = [];
    for (let at = e.from; at !== e.to; at = via.get(at)!.from) back.unshift(at.node.name.name);
    const cycle = e.to === e.from ? names : [...names, ...back];
    diags.push(
      diagnostic('E0701', `trigger "${e.trigger.name.name}": the after-chain ${cycle.join(' → ')} starts ${e.from.node.name.name} again and again: runs would never stop (Orch has no unbounded loop; use a bounded repeat in a plan)`, e.file, e.trigger.name.range),
    );
  }
}

/**
 * What `event` holds in a trigger's `where` / `with`, as `orch serve`'s trigger engine builds it:
 * a schedule's tick, a condition's edge and a chain's finished run (`given`: the watched plan's
 * output) have a known shape, and so does an `event` trigger's without `with`, whose fields but
 * `type` are the started plan's input (`given`; a closed record: an event with other fields is
 * refused as `invalid`, so a `where` reading one never lets a run start). An unknown field is
 * E0201, as on any record. With `with`, and for `manual` and `api`, what was posted has no
 * declared shape: `any` (docs/language.md, "What each trigger does").
 */
function eventTy(src: TriggerSource, given: Ty): Ty {
  switch (src.kind) {
    case 'ScheduleSource':
      return record([field('type', T.string), field('scheduled_at', T.string), field('catch_up', T.bool), field('missed', T.int)]);
    case 'ConditionSource':
      return record([field('type', T.string)]);
    case 'ChainSource': {
      // Only a completed run is sure to have its output: a failed or cancelled one may have none.
      const completed = src.outcome === 'completed';
      return record([
        field('type', T.string), field('runId', T.string), field('plan', T.string), field('status', T.string),
        field('output', completed ? given : optional(given), completed),
      ]);
    }
    case 'EventSource': {
      if (given.k !== 'record') return T.any;
      // The raw event, before the input's defaults are filled in: a field with one may be absent.
      const fields = [...given.fields.values()].filter((f) => f.name !== 'type');
      return record([field('type', T.string), ...fields.map((f) => ({ name: f.name, ty: f.required ? f.ty : optional(f.ty), required: f.required, ...(f.decl ? { decl: f.decl } : {}) }))]);
    }
    default:
      return T.any;
  }
}

function checkTrigger(
  t: TriggerDecl,
  m: LoadedModule,
  scopes: Scopes,
  model: ModelBuilder,
  diags: Diagnostic[],
  planInput: (e: DeclEntry<'plan'>) => Ty,
  contextRoot: RootInfo,
  planOutput: (e: DeclEntry<'plan'>) => Ty | null | undefined,
): void {
  const file = m.file;
  const err = (message: string, range: Range): void => {
    diags.push(diagnostic('E0701', `trigger "${t.name.name}": ${message}`, file, range));
  };
  const roots = new Map<string, RootInfo>([['context', contextRoot]]);
  const env = { file, model, diags, roots };
  const resolvePlan = (name: { parts: readonly { name: string; range: Range }[]; range: Range }): DeclEntry<'plan'> | undefined => {
    const parts = name.parts.map((p) => p.name);
    const found = scopes.lookup(m, 'plan', parts);
    if (found) {
      model.refer(file, name.parts[name.parts.length - 1]!.range, found.symbol.id);
      return found;
    }
    const best = closest(parts.join('.'), scopes.visibleNames(m, 'plan'));
    diags.push(
      diagnostic('E0701', `trigger "${t.name.name}": unknown plan "${parts.join('.')}"${best ? `; did you mean "${best}"?` : ''}`, file, name.range,
        best ? { fixes: [{ title: `Change to "${best}"`, edits: [{ file, range: name.range, newText: best }] }] } : {}),
    );
    return undefined;
  };

  const src = t.source;
  const watched = src.kind === 'ChainSource' ? resolvePlan(src.plan) : undefined;
  // Looked up quietly: `resolvePlan` below reports an unknown plan.
  const started = src.kind === 'EventSource' && !t.with ? scopes.lookup(m, 'plan', t.plan.parts.map((p) => p.name)) : undefined;
  const given = watched ? runOutputTy(watched, planOutput(watched)) : started ? planInput(started) : T.any;
  roots.set('event', { ty: eventTy(src, given), ir: { op: 'var', name: 'event' } });
  let needsWith = false;
  switch (src.kind) {
    case 'ScheduleSource': {
      needsWith = true;
      const cron = src.cron.parts.filter((p) => typeof p === 'string').join('');
      const tz = src.timezone ? src.timezone.parts.filter((p) => typeof p === 'string').join('') : undefined;
      let next: Date | null;
      try {
        const c = new Cron(cron, { paused: true });
        next = c.nextRun();
        c.stop();
      } catch (e) {
        err(`invalid cron expression "${cron}": ${(e as Error).message.replace(/^CronPattern:\s*/, '')}`, src.cron.range);
        break;
      }
      // `0 0 31 2 *` (February 31st) parses but names no date: the trigger would never fire.
      if (next === null) {
        err(`invalid cron expression "${cron}": it names no date that exists, so the trigger would never fire`, src.cron.range);
        break;
      }
      if (tz !== undefined) {
        try {
          // croner takes an empty zone for none: the schedule would silently run in the server's.
          if (tz.trim() === '') throw new Error('empty');
          const c = new Cron(cron, { paused: true, timezone: tz });
          c.nextRun();
          c.stop();
        } catch {
          err(`unknown time zone "${tz}"`, src.timezone!.range);
        }
      }
      break;
    }
    case 'EventSource':
      if (src.where) {
        const r = checkExpr(src.where, env);
        if (!assignable(r.ty, T.bool)) err(`"where" must be a bool condition, not ${formatTy(r.ty)}`, src.where.range);
      }
      break;
    case 'ConditionSource': {
      needsWith = true;
      const r = checkExpr(src.condition, env);
      if (!assignable(r.ty, T.bool)) err(`"when" must be a bool condition, not ${formatTy(r.ty)}`, src.condition.range);
      break;
    }
    case 'ApiSource': {
      const problem = apiPathProblem(src.path.parts.filter((p) => typeof p === 'string').join(''));
      if (problem) err(problem, src.path.range);
      break;
    }
    case 'ChainSource':
      needsWith = true;
      break;
    default:
      break;
  }

  const plan = resolvePlan(t.plan);
  const withTy = t.with ? checkExpr(t.with, env) : undefined;
  if (!plan) return;
  const input = planInput(plan);
  if (input.k !== 'record') return;
  if (t.with) {
    for (const f of t.with.fields) {
      const p = input.fields.get(f.key.name);
      if (!p) {
        const best = closest(f.key.name, input.fields.keys());
        err(`plan ${plan.node.name.name} has no input "${f.key.name}"${best ? `; did you mean "${best}"?` : ''}`, f.key.range);
        continue;
      }
      if (p.decl?.symbol !== undefined) model.refer(file, f.key.range, p.decl.symbol);
      const valueTy = withTy?.ty.k === 'record' ? withTy.ty.fields.get(f.key.name)?.ty : undefined;
      if (valueTy && !assignable(valueTy, p.ty)) {
        const m = mismatchDiagnostic(f.value, valueTy, p.ty, `input "${f.key.name}" of plan ${plan.node.name.name}`, f.key.name, file);
        err(m.message, m.range);
      }
    }
    const given = new Set(t.with.fields.map((f) => f.key.name));
    const missing = [...input.fields.values()].filter((f) => f.required && !given.has(f.name));
    if (missing.length) err(`missing required input ${missing.map((f) => `"${f.name}"`).join(', ')} of plan ${plan.node.name.name}`, t.with.range);
  } else if (needsWith) {
    const missing = [...input.fields.values()].filter((f) => f.required);
    if (missing.length) err(`plan ${plan.node.name.name} needs input ${missing.map((f) => `"${f.name}"`).join(', ')}; add: with { ${missing.map((f) => `${f.name}: …`).join(', ')} }`, t.plan.range);
  }
}
