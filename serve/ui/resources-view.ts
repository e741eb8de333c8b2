/**
 * Resources: slots in use against limits, rate windows, the local ratio, the privacy score and the
 * context's signals; on a cluster, its workers (an unreachable one flagged, with the steps it holds).
 */
import { get } from './api.js';
import { contextSection, type ContextSection } from './context-view.js';
import { h } from './dom.js';
import { loadWorkers, workersTable } from './workers.js';

interface Resources {
  resources: { name: string; kind: string; tier: string; inUse: number; limit: number | null }[];
  rateLimits: { policy: string; capability: string; count: number; perMs: number; used: number }[];
  localRatio: number | null;
  privacyScore: number;
}

const percent = (x: number | null): string => (x === null ? '—' : `${Math.round(x * 100)}%`);

/** Draws the page; what it returns takes the stream's context events while it is shown. */
export async function resourcesView(root: HTMLElement): Promise<ContextSection> {
  const [r, context, workers] = await Promise.all([get<Resources>('/resources'), contextSection(), loadWorkers()]);
  root.replaceChildren(
    h('h2', {}, 'Resources'),
    h(
      'p',
      { class: 'ratios' },
      'Local ratio (finished steps on the local tier): ',
      h('b', { 'data-figure': 'local-ratio' }, percent(r.localRatio)),
      ' · Privacy score (steps touching @personal or more that ran local or edge): ',
      h('b', { 'data-figure': 'privacy-score' }, percent(r.privacyScore)),
    ),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['Resource', 'Kind', 'Tier', 'Slots in use'].map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...r.resources.map((x) =>
          h(
            'tr',
            { 'data-resource': x.name },
            h('td', {}, x.name),
            h('td', {}, x.kind),
            h('td', {}, x.tier),
            h('td', {}, h('meter', { min: 0, max: x.limit ?? Math.max(1, x.inUse), value: x.inUse }), ` ${x.inUse} / ${x.limit ?? '∞'}`),
          ),
        ),
      ),
    ),
    h('h3', {}, 'Rate limits'),
    r.rateLimits.length === 0
      ? h('p', { class: 'muted' }, 'No policy declares a rate limit.')
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['Policy', 'Capability', 'Limit', 'Calls in the current window'].map((c) => h('th', {}, c)))),
          h(
            'tbody',
            {},
            ...r.rateLimits.map((l) =>
              h(
                'tr',
                { 'data-rate': l.capability },
                h('td', {}, l.policy),
                h('td', {}, l.capability),
                h('td', {}, `${l.count} per ${l.perMs / 1000}s`),
                h('td', {}, h('meter', { min: 0, max: l.count, value: Math.min(l.used, l.count) }), ` ${l.used} / ${l.count}`),
              ),
            ),
          ),
        ),
    ...(workers === null ? [] : [h('h3', {}, 'Workers'), workersTable(workers)]),
    context.el,
  );
  return context;
}
