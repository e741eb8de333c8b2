/**
 * The audit trail (admins): who changed what, when, from where, and what the server answered —
 * newest first, a page at a time ("Older"), filtered by person, run and answer; start rows name
 * the run and plan they created; refused anonymous requests appear as counts per hour.
 */
import { get } from './api.js';
import { h, when } from './dom.js';

interface Entry {
  id: number;
  at: string;
  subject: string | null;
  issuer: string | null;
  authMethod: string | null;
  name: string | null;
  httpMethod: string;
  path: string;
  runId: string | null;
  stepId: string | null;
  status: number;
  client: string | null;
  started?: { runId: string; plan: string }[];
}

interface Refused {
  hour: string;
  httpMethod: string;
  route: string;
  status: number;
  subject: string | null;
  client: string | null;
  count: number;
}

interface AuditPage {
  entries: Entry[];
  next: number | null;
  refused: Refused[];
}

const FILTERS = [
  ['user', 'Who (user or subject)'],
  ['run', 'Run'],
  ['status', 'Answer (e.g. 403)'],
] as const;

function entryRow(e: Entry): HTMLElement {
  const started = (e.started ?? []).map((s) => h('div', {}, h('small', {}, 'started '), h('a', { href: `#/runs/${encodeURIComponent(s.runId)}` }, s.runId), h('small', { class: 'muted' }, ` (${s.plan})`)));
  return h(
    'tr',
    { 'data-subject': e.subject ?? '', 'data-id': e.id },
    h('td', {}, when(e.at)),
    h('td', {}, e.subject ?? '—', e.issuer && e.issuer !== 'local' ? h('small', {}, ` (${e.issuer})`) : '', e.authMethod ? h('small', { class: 'muted' }, ` ${e.authMethod}`) : ''),
    h('td', {}, `${e.httpMethod} ${e.path}`, ...started),
    h('td', {}, String(e.status)),
    h('td', {}, e.client ?? '—'),
  );
}

function refusedRow(r: Refused): HTMLElement {
  return h('tr', {}, h('td', {}, when(r.hour)), h('td', {}, r.subject ?? '—'), h('td', {}, `${r.httpMethod} ${r.route}`), h('td', {}, String(r.status)), h('td', {}, r.client ?? '—'), h('td', {}, String(r.count)));
}

export async function auditView(root: HTMLElement): Promise<void> {
  const inputs = FILTERS.map(([name, label]) => h('input', { name, placeholder: label, 'aria-label': label, size: 16 }));
  const body = h('tbody', {});
  const more = h('button', { type: 'button', class: 'ghost' }, 'Older');
  const refusedBody = h('tbody', {});
  const refusedBox = h('details', {}, h('summary', {}, 'Refused requests without an identity (counted per hour)'), h('table', { class: 'audit refused' }, h('thead', {}, h('tr', {}, h('th', {}, 'Hour'), h('th', {}, 'Named user'), h('th', {}, 'What'), h('th', {}, 'Answer'), h('th', {}, 'From'), h('th', {}, 'Count'))), refusedBody));
  let next: number | null = null;

  const query = (before: number | null) => {
    const q = new URLSearchParams({ since: '30d' });
    for (const i of inputs) if (i.value.trim() !== '') q.set(i.name, i.value.trim());
    if (before !== null) q.set('before', String(before));
    return `/audit?${q.toString()}`;
  };
  const load = async (before: number | null) => {
    const page = await get<AuditPage>(query(before));
    if (before === null) {
      body.replaceChildren();
      refusedBody.replaceChildren(...page.refused.map(refusedRow));
      refusedBox.hidden = page.refused.length === 0;
    }
    body.append(...page.entries.map(entryRow));
    next = page.next;
    more.hidden = next === null;
  };
  more.addEventListener('click', () => void load(next));
  const form = h('form', { class: 'filters' }, ...inputs, h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load(null);
  });

  root.replaceChildren(
    h('h2', {}, 'Audit'),
    h('p', { class: 'muted' }, 'Every state-changing request of the last 30 days, newest first (orch audit lists them all). Nothing in Orch can edit this trail; auth.audit_retention alone deletes old entries.'),
    form,
    h('table', { class: 'audit' }, h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Who'), h('th', {}, 'What'), h('th', {}, 'Answer'), h('th', {}, 'From'))), body),
    more,
    refusedBox,
  );
  await load(null);
}
