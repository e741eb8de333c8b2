/**
 * The Orch dashboard, one page: hash routes (#/, #/runs/ID, #/approvals, #/triggers,
 * #/resources with the context's signals), live updates from `GET /stream` (Server-Sent Events:
 * `run` and `context` messages), light and dark themes.
 */
import { auditView } from './audit-view.js';
import { get, type LiveMessage } from './api.js';
import { canAudit, setMe, type Me } from './roles.js';
import { h } from './dom.js';
import { inboxView } from './inbox-view.js';
import { loginView } from './login.js';
import type { ContextSection } from './context-view.js';
import { resourcesView } from './resources-view.js';
import { runView, type RunPage } from './run-view.js';
import { runsView } from './runs-view.js';
import { triggersView } from './triggers-view.js';

const body = document.body;
const root = document.getElementById('root')!;
const stepCancel = body.dataset.stepCancel === 'yes';

function applyTheme(theme: string | null): void {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}
applyTheme(localStorage.getItem('orch-theme'));

if (body.dataset.page === 'login') loginView(root);
else
  void get<{ identity: Me }>('/session').then(
    (s) => {
      setMe(s.identity);
      start(s.identity);
    },
    (err: Error) => root.replaceChildren(h('p', { class: 'error' }, `Could not load the session: ${err.message}`)),
  );

function start(me: Me): void {
  const main = h('main', { id: 'main', tabindex: -1 });
  const live = h('span', { class: 'live', title: 'live updates' }, 'connecting…');
  const nav = h(
    'nav',
    { 'aria-label': 'sections' },
    ...[
      ['#/', 'Runs'],
      ['#/approvals', 'Approvals'],
      ['#/triggers', 'Triggers'],
      ['#/resources', 'Resources'],
      ...(canAudit() ? [['#/audit', 'Audit']] : []),
    ].map(([href, text]) => h('a', { href: href! }, text!)),
  );
  const theme = h('button', { type: 'button', class: 'ghost', 'aria-label': 'switch theme' }, 'Theme');
  theme.addEventListener('click', () => {
    const now = document.documentElement.dataset.theme ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
    const next = now === 'dark' ? 'light' : 'dark';
    localStorage.setItem('orch-theme', next);
    applyTheme(next);
  });
  const signOut = h('button', { type: 'button', class: 'ghost' }, 'Sign out');
  signOut.addEventListener('click', () => {
    const csrf = /(?:^|;\s*)orch_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
    void fetch('/session/logout', { method: 'POST', headers: { 'x-csrf-token': decodeURIComponent(csrf) } }).then(() => location.assign('/login'));
  });
  const everywhere = h('button', { type: 'button', class: 'ghost', title: 'end every session of yours, in every browser' }, 'Sign out everywhere');
  everywhere.addEventListener('click', () => {
    const csrf = /(?:^|;\s*)orch_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
    void fetch('/sessions', { method: 'DELETE', headers: { 'x-csrf-token': decodeURIComponent(csrf) } }).then(() => location.assign('/login'));
  });
  const who = h('span', { class: 'who', title: `${me.subject} (${me.issuer}, ${me.method})`, 'data-roles': me.roles.join(' ') }, `${me.name} · ${me.roles.join(', ') || 'no role'}`);
  root.replaceChildren(
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    h('header', {}, h('h1', {}, 'Orch', h('small', {}, body.dataset.mode === 'ui' ? ' ui' : ' serve')), nav, live, who, theme, signOut, everywhere),
    main,
  );

  let page: RunPage | null = null;
  /** The Resources page's context signals, while it is shown: they follow the stream's context events. */
  let context: ContextSection | null = null;
  /**
   * The latest live events, whatever page is shown: a run page replays those of its run once it
   * has read the journal (dropping what it read), so an event published before the page asked
   * for the journal but committed after — or while it loaded — is never lost.
   */
  const recent: LiveMessage[] = [];
  let refresh: number | undefined;
  const RECENT = 2000;
  let loading = false;
  let route = '';
  const render = async () => {
    route = location.hash || '#/';
    for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.getAttribute('href') === route || (route.startsWith('#/runs/') && a.getAttribute('href') === '#/'));
    page = null;
    context?.stop();
    context = null;
    loading = false;
    // A list refresh still pending belongs to the page being left: fired later, it would rebuild
    // the new page under the user (losing the selected step, detaching its buttons).
    if (refresh !== undefined) {
      clearTimeout(refresh);
      refresh = undefined;
    }
    const mine = route;
    try {
      const m = /^#\/runs\/(.+)$/.exec(route);
      if (m) {
        loading = true;
        const p = await runView(main, decodeURIComponent(m[1]!), stepCancel);
        if (route !== mine) return; // another route was rendered meanwhile
        loading = false;
        page = p;
        for (const msg of recent) if (msg.runId === p.runId) p.onEvent(msg.event);
      } else if (route === '#/approvals') await inboxView(main);
      else if (route === '#/triggers') await triggersView(main);
      else if (route === '#/resources') {
        const shown = await resourcesView(main);
        if (route === mine) context = shown;
        else shown.stop();
      }
      else if (route === '#/audit') await auditView(main);
      else await runsView(main);
    } catch (err) {
      main.replaceChildren(h('p', { class: 'error' }, `Could not load this page: ${(err as Error).message}`));
    }
  };
  window.addEventListener('hashchange', () => void render());
  void render();

  // Live: a run page takes events one by one; list pages re-read at most every 700 ms.
  const stream = new EventSource('/stream');
  stream.addEventListener('open', () => (live.textContent = '● live'));
  stream.addEventListener('error', () => (live.textContent = '○ reconnecting'));
  stream.addEventListener('context', () => context?.changed());
  stream.addEventListener('run', (ev) => {
    const msg = JSON.parse((ev as MessageEvent<string>).data) as LiveMessage;
    recent.push(msg);
    if (recent.length > RECENT) recent.splice(0, recent.length - RECENT);
    if (loading) return;
    if (page) {
      if (page.runId === msg.runId) page.onEvent(msg.event);
      return;
    }
    // Never re-render under someone typing a comment or choosing a filter.
    if (route.startsWith('#/runs/') || document.activeElement?.matches('input, select, textarea')) return;
    refresh ??= window.setTimeout(() => {
      refresh = undefined;
      void render();
    }, 700);
  });
}
