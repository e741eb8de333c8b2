/**
 * What the program's top-level declarations give every plan: the context's type, the resources
 * placement chooses from, the one currency of costs and budgets, and each policy's IR. Each is
 * read once per compile, before any plan is checked.
 */
import { endpointTierFor } from './endpoint-tiers.js';
import type { ContextDecl, Expr, MoneyLit } from '../language/index.js';
import { diagnostic, tierOf, type Diagnostic } from '../language/index.js';
import { checkModelResource } from './check/llm.js';
import { durationMs, type RootInfo } from './check/expr.js';
import { ms } from './check/lower.js';
import { repeatedEntries } from './check/repeated.js';
import type { ExprIR, PolicyIR } from './ir/types.js';
import type { LoadedModule } from './loaded-module.js';
import type { PlacementResource } from './placement.js';
import type { DeclEntry, Scopes } from './scope.js';
import type { TypeResolver } from './types/resolve.js';
import type { FieldTy } from './types/ty.js';

/**
 * The context's type: the fields every `context { … }` block of the program declares. A program
 * that declares none reads its live signals untyped (an open record), as the spec's own examples
 * do (`wait until context.customer_replied`); one block makes every read checked against it.
 */
export function contextOf(modules: readonly LoadedModule[], types: TypeResolver, diags: Diagnostic[]): RootInfo {
  const fields = new Map<string, FieldTy>();
  let declared = false;
  for (const m of modules) {
    for (const d of m.ast.declarations) {
      if (d.kind !== 'ContextDecl') continue;
      declared = true;
      const t = types.record(m, { kind: 'RecordType', range: (d as ContextDecl).range, fields: (d as ContextDecl).fields }, 'context_field', 'context');
      if (t.k !== 'record') continue;
      for (const [name, f] of t.fields) {
        if (fields.has(name)) {
          diags.push(diagnostic('E0102', `context field "${name}" is declared twice`, m.file, f.decl?.range ?? d.range));
          continue;
        }
        fields.set(name, f);
      }
    }
  }
  return { ty: declared ? { k: 'record', fields } : { k: 'record', fields, open: true }, ir: { op: 'var', name: 'context' } };
}

function plainText(s: { readonly parts: readonly unknown[] }): string {
  return s.parts.filter((p): p is string => typeof p === 'string').join('');
}

/** Checks a resource's `available when` condition and lowers it (check/availability.ts). */
export type AvailabilityCheck = (cond: Expr, file: string) => ExprIR;

export function resourcesOf(scopes: Scopes, modules: readonly LoadedModule[], diags: Diagnostic[], availability: AvailabilityCheck): PlacementResource[] {
  const out: PlacementResource[] = [];
  for (const m of modules) {
    for (const e of scopes.entries(m, 'resource')) {
      const r = e.node;
      const name = scopes.irName(e);
      const kind = r.resourceKind ?? 'cloud_region';
      out.push({
        name,
        kind,
        tier: tierOf(kind),
        provides: (r.provides ?? []).map((p) => p.name),
        concurrency: r.concurrency ? Math.max(1, Math.floor(r.concurrency.value)) : null,
        cost: r.cost?.amount ?? 0,
        latency_ms: ms(r.latency) ?? 0,
        reliability: r.reliability ? Math.min(1, Math.max(0, r.reliability.value / 100)) : null,
        location: r.location ? r.location.parts.filter((p) => typeof p === 'string').join('') : null,
        energy: r.energy?.value ?? 0,
        ...(r.endpoint ? { endpoint: plainText(r.endpoint), endpoint_tier: endpointTierFor(plainText(r.endpoint), m.file) } : {}),
        ...(r.model ? { model: plainText(r.model) } : {}),
        ...(r.accepts ? { accepts: r.accepts } : {}),
        ...(r.availableWhen ? { available: availability(r.availableWhen, m.file) } : {}),
      });
      if (!m.std) checkModelResource(r, m.file, diags);
    }
  }
  return out;
}

/**
 * The program's currency: the first one written on a cost or budget of a user module. Estimates
 * are sums, so every other cost and budget must use it (E0203); zero amounts (`0usd`) are
 * currency-neutral, which is what lets the std library say `cost 0usd`. With `tests`, a test's
 * mock `cost` is one more cost (a run sums it with the others), judged after the program's own.
 * Undefined when no non-zero amount is written.
 */
export function currencyOf(modules: readonly LoadedModule[], diags: Diagnostic[], tests = false): string | undefined {
  let currency: string | undefined;
  const judge = (lit: MoneyLit, file: string): void => {
    if (lit.amount === 0) return;
    if (currency === undefined) currency = lit.currency;
    else if (lit.currency !== currency) diags.push(diagnostic('E0203', `costs and budgets must use one currency: this is ${lit.currency}, others are ${currency}`, file, lit.range));
  };
  for (const m of modules) {
    if (m.std) continue;
    for (const d of m.ast.declarations) {
      if ((d.kind === 'CapabilityDecl' || d.kind === 'ResourceDecl') && d.cost) judge(d.cost, m.file);
      if (d.kind === 'PolicyDecl') for (const b of d.budgets) if (b.limit.kind === 'MoneyLit') judge(b.limit, m.file);
    }
  }
  if (tests)
    for (const m of modules) {
      if (m.std) continue;
      for (const d of m.ast.declarations) if (d.kind === 'TestDecl') for (const mock of d.mocks) if (mock.cost) judge(mock.cost, m.file);
    }
  return currency;
}

export function policyIR(e: DeclEntry<'policy'>, scopes: Scopes, diags: Diagnostic[]): PolicyIR {
  const p = e.node;
  const budgets: { cost: number | null; duration_ms: number | null; cost_warn?: boolean; duration_warn?: boolean } = { cost: null, duration_ms: null };
  let currency: string | undefined;
  // The IR keeps one budget per metric: of several, the tightest blocking one (a blocking budget
  // stops the run, so a warn-only one must not replace it), else the tightest warn one.
  const keep = (limit: number, warn: boolean, had: number | null, hadWarn: boolean | undefined): boolean =>
    had === null || (hadWarn === true && !warn) || ((hadWarn === true) === warn && limit < had);
  for (const b of p.budgets) {
    const warn = b.warn === true;
    if (b.metric === 'cost') {
      if (b.limit.kind !== 'MoneyLit') diags.push(diagnostic('E0203', 'a cost budget needs money, e.g. budget cost <= 0.50usd', e.module.file, b.limit.range));
      else if (keep(b.limit.amount, warn, budgets.cost, budgets.cost_warn)) {
        budgets.cost = b.limit.amount;
        currency = b.limit.currency;
        if (warn) budgets.cost_warn = true;
        else delete budgets.cost_warn;
      }
    } else {
      if (b.limit.kind !== 'DurationLit') diags.push(diagnostic('E0203', 'a duration budget needs a duration, e.g. budget duration <= 10m', e.module.file, b.limit.range));
      else if (keep(durationMs(b.limit.value, b.limit.unit), warn, budgets.duration_ms, budgets.duration_warn)) {
        budgets.duration_ms = durationMs(b.limit.value, b.limit.unit);
        if (warn) budgets.duration_warn = true;
        else delete budgets.duration_warn;
      }
    }
  }
  const weights: Record<string, number> = {};
  for (const w of p.weights ?? []) weights[w.key.name] = w.value.value;
  const limited = p.rateLimits.map((r) => ({ r, key: scopes.resolve(e.module, r.capability, 'capability')?.qualifiedName, range: r.range }));
  const rate_limits = limited.flatMap(({ r, key }) =>
    key !== undefined ? [{ capability: key, count: Math.max(0, Math.floor(r.count)), per_ms: durationMs(r.per.value, r.per.unit) }] : []);
  // A policy's calls of one capability share one counter (at run time and in the estimates): a
  // second rate_limit of it, even over another window, could not hold as written.
  repeatedEntries(limited,
    (q, line) => `duplicate rate_limit of capability "${q.slice(q.lastIndexOf('.') + 1)}" in policy ${p.name.name} (first on line ${line}): a policy has one limit per capability`, e.module.file, diags);
  return {
    name: p.name.name,
    strategy: p.strategy ?? 'privacy_first',
    weights,
    budgets,
    prefer: p.prefer ?? null,
    max_fallbacks: p.maxFallbacks ? Math.max(0, Math.floor(p.maxFallbacks.value)) : 3,
    require_consent: p.requireConsent ?? false,
    rate_limits,
    // The unit run-time budget messages print amounts in (`budget cost <= 0.5usd`).
    ...(currency ? { currency } : {}),
  };
}
