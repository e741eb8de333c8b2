/** The start-up banner: where the server listens, how to authenticate, what is active. */
import type { TriggerIR } from '../compiler/index.js';

export interface BannerInput {
  readonly url: string;
  readonly tokenSource: 'env' | 'generated';
  readonly token: string;
  readonly triggers: readonly TriggerIR[];
  readonly plans: readonly string[];
  readonly next: ReadonlyMap<string, Date | null>;
  readonly resumed: readonly string[];
  readonly db: string;
  readonly mode?: 'serve' | 'ui';
  /** People are configured (`auth`): how many local users, and whether the bootstrap token still works. */
  readonly people?: { readonly users: number; readonly oidc: boolean; readonly bootstrapToken: boolean };
}

export function banner(b: BannerInput): string {
  const lines: string[] = [];
  lines.push(`orch ${b.mode ?? 'serve'} listening on ${b.url}`);
  const p = b.people;
  if (p) {
    const ways = [`${p.users} local user(s)`, ...(p.oidc ? ['OpenID Connect'] : []), 'API tokens (orch auth token USER)'];
    lines.push(`auth: people — ${ways.join(', ')}`);
  }
  if (!p || p.bootstrapToken) {
    lines.push(
      b.tokenSource === 'env'
        ? `${p ? 'bootstrap' : 'auth'}: Authorization: Bearer $ORCH_TOKEN`
        : `${p ? 'bootstrap' : 'auth'}: Authorization: Bearer ${b.token}   (generated; set ORCH_TOKEN to choose one)`,
    );
  } else lines.push('bootstrap token: refused (people are configured; set auth.bootstrap_token to accept it)');
  lines.push(`dashboard: ${b.url}/   (sign in once ${p ? 'as a user' : 'with the token'})`);
  lines.push(`journal: ${b.db}`);
  lines.push(`plans (${b.plans.length}): ${b.plans.join(', ') || '—'}`);
  lines.push(`triggers (${b.triggers.length}):`);
  const width = Math.max(0, ...b.triggers.map((t) => t.name.length));
  for (const t of b.triggers) {
    const next = b.next.get(t.name);
    const extra = [
      t.debounce_ms ? `debounce ${duration(t.debounce_ms)}` : '',
      next ? `next ${next.toISOString()}` : '',
    ].filter(Boolean);
    lines.push(`  ${t.name.padEnd(width)}  ${describeSource(t)} → ${t.plan}${extra.length ? `  (${extra.join(', ')})` : ''}`);
  }
  if (b.triggers.length === 0) lines.push('  —');
  if (b.resumed.length > 0) lines.push(`resumed ${b.resumed.length} unfinished run(s): ${b.resumed.join(', ')}`);
  return lines.join('\n') + '\n';
}

export function describeSource(t: TriggerIR): string {
  const s = t.source;
  switch (s.kind) {
    case 'schedule':
      return `schedule "${s.cron}"${s.timezone ? ` ${s.timezone}` : ''}`;
    case 'event':
      return `event "${s.type}"${s.where ? ' (filtered)' : ''}  POST /events`;
    case 'manual':
      return `manual  POST /triggers/${t.name}/fire`;
    case 'api':
      return `api  POST ${s.path}`;
    case 'when':
      return 'when <condition over context>  POST /signals';
    case 'after':
      return `after ${s.plan} ${s.outcome}`;
  }
}

/** `3600000` → `1h`, `90000` → `90s`: the largest unit that divides the value. */
function duration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
