/**
 * Numbers a declaration property must keep within, whatever its unit says. A value outside them
 * parses and has the right type, but the runtime cannot honour it — `concurrency 0` would admit
 * no step, `for each … parallel 0` no item, `rate_limit x 0 per 1m` would hold every call forever,
 * `per 0s` is no window, `timeout 0s` (or `deadline 0s`, `budget duration <= 0s`) ends every
 * attempt (every run) before it can complete, and a signal of `max_age 0s` is stale the moment it
 * is set, so never known — so `orch check` says so (E0201: the property's type is a positive integer, a
 * percentage of at most 100 % …) instead of a run hanging or the IR validator failing after the
 * check passed.
 */
import { diagnostic, type BlockItem, type Diagnostic, type DurationLit, type Module, type NumberLit, type PercentLit, type RetrySpec } from '../../language/index.js';
import { durationMs } from './expr.js';

export function boundsDiagnostics(module: Module, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const positiveInt = (n: NumberLit | undefined, what: string) => {
    // A fraction is already a syntax error (the parser wants a whole number here).
    if (n?.integer && n.value < 1) out.push(diagnostic('E0201', `${what} must be at least 1, not ${n.value}`, file, n.range));
  };
  const percent = (p: PercentLit | undefined, what: string) => {
    if (p && !(p.value >= 0 && p.value <= 100)) out.push(diagnostic('E0201', `${what} is a percentage from 0% to 100%, not ${p.value}%`, file, p.range));
  };
  // `wait until C timeout 0s` is not one of these: it tests C once, when the step starts.
  const positiveDuration = (t: DurationLit | undefined, what: string) => {
    if (t && !(durationMs(t.value, t.unit) > 0))
      out.push(diagnostic('E0201', `${what} must be longer than 0, not ${t.value}${t.unit}: nothing could complete before it`, file, t.range));
  };
  // As Temporal refuses a MaximumInterval below the InitialInterval: every wait would be `max`.
  const backoffMax = (r: RetrySpec | undefined) => {
    const b = r?.backoff;
    if (b?.max && durationMs(b.max.value, b.max.unit) < durationMs(b.delay.value, b.delay.unit))
      out.push(diagnostic('E0201', `a backoff's max ${b.max.value}${b.max.unit} is below its first delay ${b.delay.value}${b.delay.unit}: raise max or lower the delay`, file, b.max.range));
  };
  for (const d of module.declarations) {
    if (d.kind === 'CapabilityDecl') {
      positiveDuration(d.timeout, 'a timeout');
      backoffMax(d.retry);
    } else if (d.kind === 'ResourceDecl') {
      positiveInt(d.concurrency, 'concurrency');
      percent(d.reliability, 'reliability');
    } else if (d.kind === 'PlanDecl') {
      positiveInt(d.concurrency, 'concurrency');
      positiveDuration(d.deadline, 'a deadline');
      // `for each … parallel 0` would start no item, `timeout 0s` lets no step complete: at any depth of blocks.
      const blocks: (readonly BlockItem[])[] = [d.body.filter((x): x is BlockItem => x.kind !== 'InvariantDecl')];
      for (let body = blocks.pop(); body; body = blocks.pop())
        for (const item of body) {
          if (item.kind === 'StepDecl') {
            positiveDuration(item.timeout, 'a timeout');
            backoffMax(item.retry);
          }
          if (item.kind === 'ForEachDecl') positiveInt(item.parallel, 'parallel');
          if (item.kind === 'ForEachDecl' || item.kind === 'RepeatDecl' || item.kind === 'RaceDecl') blocks.push(item.body);
        }
    } else if (d.kind === 'SimulateDecl') {
      percent(d.fail, 'fail');
    } else if (d.kind === 'SimulateContextDecl') {
      for (const s of d.signals) percent(s.share, 'stale');
    } else if (d.kind === 'ContextDecl') {
      for (const f of d.fields)
        if (f.maxAge && !(durationMs(f.maxAge.value, f.maxAge.unit) > 0))
          out.push(diagnostic('E0201', `a max_age must be longer than 0, not ${f.maxAge.value}${f.maxAge.unit}: the signal would be stale as soon as it is set`, file, f.maxAge.range));
    } else if (d.kind === 'PolicyDecl') {
      for (const b of d.budgets) if (b.limit.kind === 'DurationLit') positiveDuration(b.limit, 'a duration budget');
      for (const r of d.rateLimits) {
        if (r.count < 1) out.push(diagnostic('E0201', `a rate limit allows at least 1 call per window, not ${r.count}`, file, r.range));
        if (!(durationMs(r.per.value, r.per.unit) > 0))
          out.push(diagnostic('E0201', 'a rate limit needs a window longer than 0, e.g. rate_limit send_email 10 per 1m', file, r.per.range));
      }
    }
  }
  return out;
}
