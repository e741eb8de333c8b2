/**
 * One-line signatures and hover text for declarations, built from the AST. Types are shown the
 * way they are written in source, compactly (hover is not the formatter).
 */
import type {
  Argument, CapabilityDecl, Expr, FieldDecl, PlanDecl, PolicyDecl, RecordType, ResourceDecl, StepDecl, TypeExpr,
  GuardrailDecl, RaceDecl, RepeatDecl, TriggerDecl, DurationLit, MoneyLit,
} from '../language/index.js';
import { tierOf } from '../language/index.js';
import { moneyText, typeText } from '../compiler/index.js';
import { printExpr } from '../language/index.js';
import type { OrchSymbol } from './symbol-index/model.js';

export { typeText };

/**
 * Like the compiler's field detail, but showing the default value (hover has the room): the
 * labels (§9.3) and a signal's freshness (§9.4) are part of what a field promises.
 */
export function fieldText(f: FieldDecl): string {
  const cls = f.dataClass ? ` @${f.dataClass}` : '';
  const trust = f.trust ? ` @${f.trust}` : '';
  const def = f.default ? ` = ${exprText(f.default)}` : '';
  const maxAge = f.maxAge ? ` max_age ${dur(f.maxAge)}` : '';
  const hold = f.hold ? ` hold ${dur(f.hold)}` : '';
  return `${f.name.name}: ${typeText(f.type)}${cls}${trust}${def}${maxAge}${hold}`;
}

/** Short source-like rendering of an expression (defaults, arguments); long ones are elided. */
export function exprText(e: Expr | undefined, budget = 60): string {
  if (!e) return '';
  const s = printExpr(e);
  return s.length > budget ? `${s.slice(0, budget - 1)}…` : s;
}

export function parametersText(input: RecordType | undefined): string {
  return input ? input.fields.map(fieldText).join(', ') : '';
}

export function argsText(args: readonly Argument[]): string {
  return args.map((a) => `${a.name.name}: ${exprText(a.value, 30)}`).join(', ');
}

const dur = (d: DurationLit | undefined): string | undefined => (d ? `${d.value}${d.unit}` : undefined);
const money = (m: MoneyLit | undefined): string | undefined => (m ? moneyText(m.amount, m.currency) : undefined);

/** The signature line shown in hover and completion detail. */
export function signatureOf(sym: OrchSymbol): string {
  const n = sym.node as { kind: string };
  switch (n.kind) {
    case 'CapabilityDecl': {
      const c = n as CapabilityDecl;
      return `capability ${sym.name}(${parametersText(c.input)}) -> ${typeText(c.output)}`;
    }
    case 'PlanDecl': {
      const p = n as PlanDecl;
      return `plan ${sym.name}(${parametersText(p.input)})`;
    }
    case 'StepDecl': {
      const s = n as StepDecl;
      const a = s.action;
      const action =
        a.kind === 'CapabilityCall' ? `${a.capability.parts.map((p) => p.name).join('.')}(${argsText(a.args)})`
          : a.kind === 'RunAction' ? `run ${a.plan.parts.map((p) => p.name).join('.')}(${argsText(a.args)})`
            : a.kind === 'WaitAction' ? `wait ${exprText(a.duration)}`
              : `wait until ${exprText(a.condition)}`;
      return `step ${sym.name} = ${action}`;
    }
    case 'ResourceDecl': {
      const r = n as ResourceDecl;
      return `resource ${sym.name}${r.resourceKind ? `: ${r.resourceKind} (${tierOf(r.resourceKind)} tier)` : ''}`;
    }
    case 'PolicyDecl': {
      const p = n as PolicyDecl;
      return `policy ${sym.name}${p.strategy ? `: ${p.strategy}` : ''}`;
    }
    case 'GuardrailDecl': {
      const g = n as GuardrailDecl;
      return `guardrail ${sym.name}${g.severity ? ` (${g.severity})` : ''}`;
    }
    case 'TriggerDecl': {
      const t = n as TriggerDecl;
      return `trigger ${sym.name} → run ${t.plan.parts.map((p) => p.name).join('.')}`;
    }
    case 'FieldDecl':
      return `${sym.role ?? 'field'} ${fieldText(n as FieldDecl)}`;
    case 'TypeAliasDecl':
      return `type ${sym.name} = ${typeText((n as unknown as { type: TypeExpr }).type)}`;
    case 'RaceDecl': {
      const r = n as RaceDecl;
      return `race ${sym.name}: first of ${r.body.map((b) => b.name.name).join(', ')}`;
    }
    case 'RepeatDecl': {
      const r = n as RepeatDecl;
      return `repeat ${sym.name} max ${r.max?.value ?? '?'} until ${exprText(r.until)}${r.onFailure ? ` on_failure ${r.onFailure}` : ''}`;
    }
    default:
      return `${sym.kind} ${sym.name}`;
  }
}

/** Extra facts listed under the signature in hover. */
export function factsOf(sym: OrchSymbol): string[] {
  const n = sym.node as { kind: string };
  const facts: string[] = [];
  const push = (label: string, v: string | number | boolean | undefined): void => {
    if (v !== undefined && v !== '') facts.push(`${label}: ${v}`);
  };
  if (n.kind === 'CapabilityDecl') {
    const c = n as CapabilityDecl;
    push('kind', c.capabilityKind);
    push('cost', money(c.cost));
    push('latency', dur(c.latency));
    push('timeout', dur(c.timeout));
    push('data', c.data);
    push('requires', c.requires?.map((r) => r.name).join(', '));
    push('consent', c.consent?.map((s) => exprText(s)).join(', '));
    push('idempotent', c.idempotent);
    // v0.3 (§8.1): a model-backed capability shows what it asks and of which model.
    push('model', c.model ? exprText(c.model) : undefined);
    push('temperature', c.temperature?.value);
    push('max_tokens', c.maxTokens?.value);
    push('system', c.system ? exprText(c.system, 120) : undefined);
    push('prompt', c.prompt ? exprText(c.prompt, 120) : undefined);
    if (c.capabilityKind === 'llm') push('answered by', c.prompt && !c.handler ? 'the built-in model handler' : c.handler ? 'its handler' : undefined);
  } else if (n.kind === 'ResourceDecl') {
    const r = n as ResourceDecl;
    push('provides', r.provides?.map((p) => p.name).join(', '));
    push('concurrency', r.concurrency?.value);
    push('cost', money(r.cost));
    push('latency', dur(r.latency));
    push('reliability', r.reliability ? `${r.reliability.value}%` : undefined);
    push('location', r.location ? exprText(r.location) : undefined);
    push('endpoint', r.endpoint ? exprText(r.endpoint) : undefined);
    push('model', r.model ? exprText(r.model) : undefined);
  } else if (n.kind === 'PolicyDecl') {
    const p = n as PolicyDecl;
    for (const b of p.budgets) push('budget', `${b.metric} ${b.op} ${b.limit.kind === 'MoneyLit' ? money(b.limit) : dur(b.limit)}`);
    push('prefer', p.prefer);
    push('max_fallbacks', p.maxFallbacks?.value);
  } else if (n.kind === 'GuardrailDecl') {
    const g = n as GuardrailDecl;
    push('category', g.category?.name);
    push('message', g.message ? exprText(g.message, 120) : undefined);
  } else if (n.kind === 'PlanDecl') {
    const p = n as PlanDecl;
    push('goal', p.goal ? exprText(p.goal, 120) : undefined);
    push('policy', p.policy?.parts.map((x) => x.name).join('.'));
    push('guardrails', p.guardrails.map((g) => g.parts.map((x) => x.name).join('.')).join(', '));
    push('deadline', dur(p.deadline));
  } else if (n.kind === 'StepDecl') {
    const s = n as StepDecl;
    push('on', s.on?.parts.map((x) => x.name).join('.'));
    push('after', s.after.map((a) => a.name).join(', '));
    push('timeout', dur(s.timeout));
  }
  return facts;
}
