/** The runs page: counts by status, a filterable list, success rate and cost over time, spend by plan, capability and model. */
import { get, type RunSummary } from './api.js';
import { h, statusBadge, when } from './dom.js';
import { spendCard, type SpendTotal } from './spend-view.js';

const STATUSES = ['queued', 'running', 'paused', 'interrupted', 'completed', 'failed', 'cancelled', 'timeout'];

export interface Filters {
  plan: string;
  status: string;
  trigger: string;
  since: string;
}

export const filters: Filters = { plan: '', status: '', trigger: '', since: '' };

export async function runsView(root: HTMLElement): Promise<void> {
  const [{ runs }, { totals }] = await Promise.all([get<{ runs: RunSummary[] }>('/runs'), get<{ totals: SpendTotal[] }>('/spend')]);
  const sorted = [...runs].sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const plans = [...new Set(runs.map((r) => r.planId))].sort();
  const triggers = [...new Set(runs.map((r) => r.trigger ?? '').filter(Boolean))].sort();

  const list = h('tbody');
  const fill = () => {
    const since = filters.since ? Date.now() - Number(filters.since) * 3600_000 : 0;
    const shown = sorted.filter(
      (r) =>
        (!filters.plan || r.planId === filters.plan) &&
        (!filters.status || r.status === filters.status) &&
        (!filters.trigger || (r.trigger ?? '(api)') === filters.trigger) &&
        (!since || Date.parse(r.startedAt ?? '') >= since),
    );
    list.replaceChildren(
      ...shown.slice(0, 500).map((r) =>
        h(
          'tr',
          { 'data-run': r.runId },
          h('td', {}, h('a', { href: `#/runs/${encodeURIComponent(r.runId)}` }, r.runId)),
          h('td', {}, r.planId),
          h('td', {}, statusBadge(r.status)),
          h('td', {}, r.trigger === undefined ? '—' : (r.trigger ?? 'POST /runs')),
          h('td', {}, when(r.startedAt)),
          h('td', { class: 'num' }, r.cost === undefined ? '—' : r.cost.toFixed(3)),
        ),
      ),
    );
    if (shown.length === 0) list.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No runs match.')));
  };
  const select = (key: keyof Filters, label: string, options: string[][]) => {
    const s = h('select', { 'aria-label': label, 'data-filter': key }, ...options.map(([v, t]) => h('option', { value: v!, selected: filters[key] === v }, t!)));
    s.addEventListener('change', () => {
      filters[key] = s.value;
      fill();
    });
    return h('label', {}, `${label} `, s);
  };
  fill();
  root.replaceChildren(
    h('h2', {}, 'Runs'),
    h(
      'div',
      { class: 'counts' },
      ...STATUSES.map((s) => h('div', { class: `count s-${s}`, 'data-count': s }, h('strong', {}, counts.get(s) ?? 0), h('span', {}, s))),
    ),
    h('section', { class: 'card' }, h('h3', {}, 'Success rate and cost per hour'), trendChart(runs)),
    spendCard(totals),
    h(
      'div',
      { class: 'filters' },
      select('plan', 'Plan', [['', 'all'], ...plans.map((p) => [p, p])]),
      select('status', 'Status', [['', 'all'], ...STATUSES.map((s) => [s, s])]),
      select('trigger', 'Trigger', [['', 'all'], ['(api)', 'POST /runs'], ...triggers.map((t) => [t, t])]),
      select('since', 'Started', [['', 'any time'], ['1', 'last hour'], ['24', 'last day'], ['168', 'last week']]),
    ),
    h(
      'table',
      { class: 'runs' },
      h('thead', {}, h('tr', {}, ...['Run', 'Plan', 'Status', 'Trigger', 'Started', 'Cost'].map((t) => h('th', {}, t)))),
      list,
    ),
  );
}

/** Finished runs per hour (last 24 buckets with runs): bar = success rate, dot = cost. */
function trendChart(runs: RunSummary[]): Element {
  const buckets = new Map<number, { ok: number; done: number; cost: number }>();
  for (const r of runs) {
    if (!r.completedAt) continue;
    const hour = Math.floor(Date.parse(r.completedAt) / 3600_000);
    const b = buckets.get(hour) ?? { ok: 0, done: 0, cost: 0 };
    b.done += 1;
    if (r.status === 'completed') b.ok += 1;
    b.cost += r.cost ?? 0;
    buckets.set(hour, b);
  }
  const rows = [...buckets.entries()].sort(([a], [b]) => a - b).slice(-24);
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No finished runs yet.');
  const maxCost = Math.max(...rows.map(([, b]) => b.cost), 1e-9);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const W = 40 * rows.length + 40;
  svg.setAttribute('viewBox', `0 0 ${W} 110`);
  svg.setAttribute('class', 'trend');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'success rate and cost per hour');
  rows.forEach(([hour, b], i) => {
    const rate = b.ok / b.done;
    const bar = document.createElementNS(ns, 'rect');
    bar.setAttribute('x', String(30 + i * 40));
    bar.setAttribute('y', String(90 - rate * 80));
    bar.setAttribute('width', '24');
    bar.setAttribute('height', String(Math.max(1, rate * 80)));
    bar.setAttribute('class', 'rate');
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${new Date(hour * 3600_000).toLocaleString()}: ${Math.round(rate * 100)}% of ${b.done} succeeded, cost ${b.cost.toFixed(3)}`;
    bar.append(title);
    const dot = document.createElementNS(ns, 'circle');
    dot.setAttribute('cx', String(42 + i * 40));
    dot.setAttribute('cy', String(90 - (b.cost / maxCost) * 80));
    dot.setAttribute('r', '4');
    dot.setAttribute('class', 'cost');
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', String(42 + i * 40));
    label.setAttribute('y', '105');
    label.setAttribute('text-anchor', 'middle');
    label.textContent = `${new Date(hour * 3600_000).getHours()}h`;
    svg.append(bar, dot, label);
  });
  return svg;
}
