/**
 * The context's signals (LANGUAGE.md §9.4) on the Resources page: each signal's value, age,
 * source and state, as `GET /context/signals` gives them. Live: the page re-reads them when the
 * stream brings a context event (a set, a signal gone stale, a refusal), and ages tick meanwhile.
 */
import { get } from './api.js';
import { h } from './dom.js';

interface Signal {
  value: unknown;
  set_at: string | null;
  age_ms: number | null;
  source: string | null;
  state: 'fresh' | 'stale' | 'never_set';
}

export interface ContextSection {
  readonly el: HTMLElement;
  /** A context event arrived: read the signals again (at most every 300 ms). */
  changed(): void;
  /** The page was left: no more ticking or reading. */
  stop(): void;
}

/** `3m12s`, `450ms`: an age as the run's skip reasons print it. */
function age(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.floor(ms / 1000);
  let out = '';
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const)
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  return out;
}

const STATE_TEXT = { fresh: 'fresh', stale: 'stale · unknown to plans', never_set: 'never set · unknown to plans' } as const;

export async function contextSection(): Promise<ContextSection> {
  const el = h('section', { class: 'context-signals' }, h('h3', {}, 'Context signals'));
  let signals: Record<string, Signal> | null = null;
  let readAt = 0;
  let stopped = false;
  const ages = new Map<HTMLElement, number>();
  const draw = () => {
    ages.clear();
    const names = Object.keys(signals ?? {}).sort();
    const table =
      signals === null
        ? h('p', { class: 'muted' }, 'No live context here (orch ui reads a journal; orch serve keeps the signals).')
        : names.length === 0
          ? h('p', { class: 'muted empty' }, 'No context signal is declared or set.')
          : h(
              'table',
              {},
              h('thead', {}, h('tr', {}, ...['Signal', 'Value', 'Age', 'Source', 'State'].map((c) => h('th', {}, c)))),
              h(
                'tbody',
                {},
                ...names.map((name) => {
                  const s = signals![name]!;
                  const ageCell = h('td', { class: 'age' }, s.age_ms === null ? '—' : age(s.age_ms));
                  if (s.age_ms !== null) ages.set(ageCell, s.age_ms);
                  return h(
                    'tr',
                    { 'data-signal': name, 'data-state': s.state },
                    h('td', {}, h('b', {}, name)),
                    h('td', { class: 'value' }, s.value === null || s.value === undefined ? '—' : JSON.stringify(s.value)),
                    ageCell,
                    h('td', {}, s.source ?? '—'),
                    h('td', {}, h('span', { class: `badge s-${s.state === 'fresh' ? 'completed' : s.state === 'stale' ? 'paused' : 'pending'}` }, STATE_TEXT[s.state])),
                  );
                }),
              ),
            );
    el.replaceChildren(el.firstChild!, table);
  };
  const read = async () => {
    try {
      signals = await get<Record<string, Signal>>('/context/signals');
    } catch {
      signals = null;
    }
    readAt = Date.now();
    if (!stopped) draw();
  };
  await read();
  const tick = window.setInterval(() => {
    for (const [cell, ms] of ages) cell.textContent = age(ms + Date.now() - readAt);
  }, 1000);
  let pending: number | undefined;
  return {
    el,
    changed: () => {
      pending ??= window.setTimeout(() => {
        pending = undefined;
        if (!stopped) void read();
      }, 300);
    },
    stop: () => {
      stopped = true;
      window.clearInterval(tick);
      if (pending !== undefined) window.clearTimeout(pending);
    },
  };
}
