/** Triggers: kind, next fire time, decisions so far, and the recent runs each one started. */
import { get, type RunSummary } from './api.js';
import { h, statusBadge, when } from './dom.js';

interface TriggerRow {
  name: string;
  kind: string;
  plan: string;
  counts: Record<string, number>;
  next?: string | null;
}

export async function triggersView(root: HTMLElement): Promise<void> {
  const [{ triggers }, { runs }] = await Promise.all([get<{ triggers: TriggerRow[] }>('/triggers'), get<{ runs: RunSummary[] }>('/runs')]);
  const rows = triggers.map((t) => {
    const recent = runs.filter((r) => r.trigger === t.name).sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '')).slice(0, 5);
    return h(
      'tr',
      { 'data-trigger': t.name },
      h('td', {}, h('b', {}, t.name)),
      h('td', {}, t.kind),
      h('td', {}, t.plan),
      h('td', {}, t.next === undefined ? '—' : when(t.next)),
      h('td', { class: 'muted' }, Object.entries(t.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(' · ') || 'no fires yet'),
      h('td', {}, ...recent.map((r) => h('div', {}, h('a', { href: `#/runs/${encodeURIComponent(r.runId)}` }, r.runId), ' ', statusBadge(r.status)))),
    );
  });
  root.replaceChildren(
    h('h2', {}, 'Triggers'),
    triggers.length === 0
      ? h('p', { class: 'muted empty' }, 'No triggers here (orch ui watches a journal and fires none).')
      : h('table', {}, h('thead', {}, h('tr', {}, ...['Trigger', 'Kind', 'Plan', 'Next fire', 'Fires', 'Recent runs'].map((c) => h('th', {}, c)))), h('tbody', {}, ...rows)),
  );
}
