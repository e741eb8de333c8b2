/** The audit trail (admins): who changed what, when, from where, and what the server answered. */
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
}

export async function auditView(root: HTMLElement): Promise<void> {
  const { entries } = await get<{ entries: Entry[] }>('/audit?since=30d');
  const rows = entries
    .slice(-500)
    .reverse()
    .map((e) =>
      h(
        'tr',
        { 'data-subject': e.subject ?? '' },
        h('td', {}, when(e.at)),
        h('td', {}, e.subject ?? '—', e.issuer && e.issuer !== 'local' ? h('small', {}, ` (${e.issuer})`) : '', e.authMethod ? h('small', { class: 'muted' }, ` ${e.authMethod}`) : ''),
        h('td', {}, `${e.httpMethod} ${e.path}`),
        h('td', {}, String(e.status)),
        h('td', {}, e.client ?? '—'),
      ),
    );
  root.replaceChildren(
    h('h2', {}, 'Audit'),
    h('p', { class: 'muted' }, 'Every state-changing request of the last 30 days, newest first (orch audit lists them all). Nothing in Orch can edit this trail.'),
    rows.length
      ? h('table', { class: 'audit' }, h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Who'), h('th', {}, 'What'), h('th', {}, 'Answer'), h('th', {}, 'From'))), h('tbody', {}, ...rows))
      : h('p', { class: 'muted empty' }, 'Nothing yet.'),
  );
}
