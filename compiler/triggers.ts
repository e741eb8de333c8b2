/**
 * Trigger checks (E0701): the plan must exist, a schedule must be a valid cron expression in a
 * valid time zone (croner), conditions must be bool, and `with { … }` must match the plan input
 * (no unknown fields, every required field, right types). Schedule, condition and chain triggers
 * start a plan with no payload, so a plan with required inputs needs `with`; manual, api and
 * event triggers take the input from the request / event.
 */
import { Cron } from 'croner';
import type { Range, TriggerDecl } from '../language/index.js';
import { diagnostic, type Diagnostic } from '../language/index.js';
import { checkExpr, type RootInfo } from './check/expr.js';
import { mismatchDiagnostic } from './check/mismatch.js';
import type { LoadedModule } from './load.js';
import type { ModelBuilder } from './model.js';
import type { DeclEntry, Scopes } from './scope.js';
import { closest } from './suggest.js';
import { T, assignable, formatTy, type Ty } from './types/ty.js';

export function checkTriggers(
  modules: readonly LoadedModule[],
  scopes: Scopes,
  model: ModelBuilder,
  diags: Diagnostic[],
  planInput: (e: DeclEntry<'plan'>) => Ty,
  contextRoot: RootInfo,
): void {
  for (const m of modules) {
    if (m.std) continue;
    for (const e of scopes.entries(m, 'trigger')) checkTrigger(e.node, m, scopes, model, diags, planInput, contextRoot);
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
): void {
  const file = m.file;
  const err = (message: string, range: Range): void => {
    diags.push(diagnostic('E0701', `trigger "${t.name.name}": ${message}`, file, range));
  };
  const roots = new Map<string, RootInfo>([
    ['event', { ty: T.any, ir: { op: 'var', name: 'event' } }],
    ['context', contextRoot],
  ]);
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
  let needsWith = false;
  switch (src.kind) {
    case 'ScheduleSource': {
      needsWith = true;
      const cron = src.cron.parts.filter((p) => typeof p === 'string').join('');
      const tz = src.timezone ? src.timezone.parts.filter((p) => typeof p === 'string').join('') : undefined;
      try {
        new Cron(cron, { paused: true }).stop();
      } catch (e) {
        err(`invalid cron expression "${cron}": ${(e as Error).message.replace(/^CronPattern:\s*/, '')}`, src.cron.range);
        break;
      }
      if (tz !== undefined) {
        try {
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
    case 'ChainSource':
      needsWith = true;
      resolvePlan(src.plan);
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
