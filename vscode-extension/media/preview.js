// The plan preview page. Standalone: give it the `orch/preview` result with
// `window.renderPreview(data)` or a `{type: 'preview', data}` message; inside VS Code the
// extension posts those messages and receives `{type: 'selectPlan', plan}` and
// `{type: 'reveal', step}` back (outside VS Code a click dispatches an `orch-reveal` event).
(function () {
  'use strict';
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  const $ = (id) => document.getElementById(id);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const TIERS = ['local', 'edge', 'cloud', 'human'];
  const MIN_SCALE = 0.1;
  const MAX_SCALE = 4;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function formatDuration(ms) {
    if (typeof ms !== 'number' || !isFinite(ms)) return '—';
    if (ms >= 3600000) return +(ms / 3600000).toFixed(2) + 'h';
    if (ms >= 60000) return +(ms / 60000).toFixed(2) + 'm';
    if (ms >= 1000) return +(ms / 1000).toFixed(2) + 's';
    return Math.round(ms) + 'ms';
  }
  let currency = 'usd';
  function formatCost(n) {
    return typeof n === 'number' && isFinite(n) ? String(+n.toFixed(6)) + currency : '—';
  }

  function table(head, rows) {
    const t = el('table');
    t.append(el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))));
    const body = el('tbody');
    for (const r of rows) body.append(el('tr', {}, ...r));
    t.append(body);
    return t;
  }
  const td = (text, cls) => el('td', cls ? { class: cls } : {}, text);

  /** Parses the server's SVG and drops anything executable before putting it in the page. */
  function safeSvg(text) {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const svg = doc.documentElement;
    if (!svg || svg.nodeName.toLowerCase() !== 'svg') return null;
    for (const s of svg.querySelectorAll('script, foreignObject')) s.remove();
    for (const n of [svg, ...svg.querySelectorAll('*')]) {
      for (const a of [...n.attributes]) {
        if (/^on/i.test(a.name) || /javascript:/i.test(a.value)) n.removeAttribute(a.name);
      }
    }
    return document.importNode(svg, true);
  }

  // ───────────── zoom and pan ─────────────

  /** `auto`: readable size (fit, but never below 100%); a number once the user zoomed. */
  let chosenScale = 'auto';
  let scale = 1;
  let natural = { w: 0, h: 0 };

  function graphSvg() {
    return $('graph').querySelector('svg');
  }
  function fitScale() {
    const g = $('graph');
    if (!natural.w || !natural.h) return 1;
    return Math.max(MIN_SCALE, Math.min((g.clientWidth - 24) / natural.w, (g.clientHeight - 24) / natural.h));
  }
  function applyScale(next, anchor) {
    const svg = graphSvg();
    if (!svg) return;
    const g = $('graph');
    const old = scale;
    scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, next));
    // Keep the point under the cursor (or the centre) where it was.
    const ax = anchor ? anchor.x : g.clientWidth / 2;
    const ay = anchor ? anchor.y : g.clientHeight / 2;
    const gx = (g.scrollLeft + ax) / old;
    const gy = (g.scrollTop + ay) / old;
    svg.style.width = natural.w * scale + 'px';
    svg.style.height = natural.h * scale + 'px';
    g.scrollLeft = gx * scale - ax;
    g.scrollTop = gy * scale - ay;
    $('zoom-level').textContent = Math.round(scale * 100) + '%';
  }
  function zoomBy(factor, anchor) {
    chosenScale = scale * factor;
    applyScale(chosenScale, anchor);
  }
  function fit() {
    chosenScale = fitScale();
    applyScale(chosenScale);
  }
  function reset() {
    chosenScale = 1;
    applyScale(1);
  }
  $('zoom-in').addEventListener('click', () => zoomBy(1.25));
  $('zoom-out').addEventListener('click', () => zoomBy(0.8));
  $('zoom-fit').addEventListener('click', fit);
  $('zoom-reset').addEventListener('click', reset);
  $('graph').addEventListener('wheel', (ev) => {
    if (!ev.ctrlKey && !ev.metaKey) return; // a plain wheel scrolls
    ev.preventDefault();
    const r = $('graph').getBoundingClientRect();
    zoomBy(Math.exp(-ev.deltaY * 0.002), { x: ev.clientX - r.left, y: ev.clientY - r.top });
  }, { passive: false });
  $('graph').addEventListener('keydown', (ev) => {
    if (ev.key === '+' || ev.key === '=') zoomBy(1.25);
    else if (ev.key === '-') zoomBy(0.8);
    else if (ev.key === '0') reset();
    else if (ev.key === 'f') fit();
  });

  /** Drag pans; a press and release without moving on a step reveals it in the source. */
  let press = null;
  $('graph').addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const g = $('graph');
    press = { x: ev.clientX, y: ev.clientY, left: g.scrollLeft, top: g.scrollTop, moved: false, id: ev.pointerId };
  });
  $('graph').addEventListener('pointermove', (ev) => {
    if (!press) return;
    const dx = ev.clientX - press.x;
    const dy = ev.clientY - press.y;
    if (!press.moved && Math.hypot(dx, dy) < 4) return;
    if (!press.moved) {
      press.moved = true;
      $('graph').classList.add('panning');
      $('graph').setPointerCapture(press.id);
    }
    $('graph').scrollLeft = press.left - dx;
    $('graph').scrollTop = press.top - dy;
  });
  const endPress = (ev) => {
    if (!press) return;
    const wasDrag = press.moved;
    press = null;
    $('graph').classList.remove('panning');
    if (wasDrag || ev.type !== 'pointerup') return;
    const step = ev.target instanceof Element ? ev.target.closest('g.step') : null;
    if (step) reveal(step.getAttribute('data-step'));
  };
  $('graph').addEventListener('pointerup', endPress);
  $('graph').addEventListener('pointercancel', endPress);

  function reveal(step) {
    if (!step) return;
    if (vscode) vscode.postMessage({ type: 'reveal', step });
    document.dispatchEvent(new CustomEvent('orch-reveal', { detail: { step } }));
  }

  // ───────────── rendering ─────────────

  /** Tier colours and conditional marks, from the preview's step list. */
  function decorate(svg, steps) {
    const byId = new Map(steps.map((s) => [s.id, s]));
    for (const g of svg.querySelectorAll('g.step')) {
      const s = byId.get(g.getAttribute('data-step'));
      const texts = g.querySelectorAll('text');
      if (texts[1]) texts[1].setAttribute('class', 'sub');
      if (!s) continue;
      g.setAttribute('data-tier', TIERS.includes(s.tier) ? s.tier : 'none');
      const title = document.createElementNS(SVG_NS, 'title');
      title.textContent = s.id + ' — ' + (s.resource ? s.resource + (s.tier ? ' (' + s.tier + ')' : '') : 'no resource')
        + ' — ' + formatCost(s.estimate && s.estimate.cost) + ' · ' + formatDuration(s.estimate && s.estimate.duration_ms)
        + (s.conditional ? ' — conditional' : '') + '\nClick to show it in the source';
      g.prepend(title);
      const rect = g.querySelector('rect');
      if (s.conditional && rect) {
        g.classList.add('conditional');
        const badge = document.createElementNS(SVG_NS, 'text');
        badge.setAttribute('class', 'badge');
        badge.setAttribute('x', String(+rect.getAttribute('x') + +rect.getAttribute('width') - 6));
        badge.setAttribute('y', String(+rect.getAttribute('y') + 12));
        badge.setAttribute('text-anchor', 'end');
        badge.textContent = 'when';
        g.append(badge);
      }
    }
  }

  function renderLegend(steps) {
    const used = TIERS.filter((t) => steps.some((s) => s.tier === t));
    const items = used.map((t) => el('span', {}, el('span', { class: 'swatch', style: `background: color-mix(in srgb, var(--tier-${t}) 25%, transparent); border-color: var(--tier-${t})` }), t));
    if (steps.some((s) => s.conditional)) items.push(el('span', {}, '┄ conditional (when)'));
    $('legend').replaceChildren(...items);
  }

  function renderGraph(data, steps) {
    const graph = $('graph');
    const svg = typeof data.svg === 'string' ? safeSvg(data.svg) : null;
    if (!svg) {
      natural = { w: 0, h: 0 };
      graph.replaceChildren(el('p', { class: 'muted' }, data.preview ? 'No graph.' : 'No plan compiled — fix the problems above.'));
      $('legend').replaceChildren();
      return;
    }
    const vb = (svg.getAttribute('viewBox') || '').split(/[\s,]+/).map(Number);
    natural = vb.length === 4 && vb.every(isFinite)
      ? { w: vb[2], h: vb[3] }
      : { w: +svg.getAttribute('width') || 600, h: +svg.getAttribute('height') || 200 };
    svg.removeAttribute('width');
    svg.removeAttribute('height');
    decorate(svg, steps);
    const left = graph.scrollLeft;
    const top = graph.scrollTop;
    graph.replaceChildren(svg);
    renderLegend(steps);
    scale = 1;
    applyScale(chosenScale === 'auto' ? Math.min(1.5, Math.max(1, fitScale())) : chosenScale, { x: 0, y: 0 });
    graph.scrollLeft = left;
    graph.scrollTop = top;
  }

  function renderPlans(data) {
    const select = $('plan');
    const plans = Array.isArray(data.plans) ? data.plans : [];
    select.replaceChildren(...plans.map((p) => {
      const o = el('option', { value: p }, p);
      if (p === data.plan) o.selected = true;
      return o;
    }));
    select.hidden = plans.length < 2;
  }

  function renderPreview(data) {
    if (!data || typeof data !== 'object') return;
    const p = data.preview;
    currency = typeof data.currency === 'string' && data.currency ? data.currency : 'usd';
    renderPlans(data);
    $('title').textContent = p ? 'Plan ' + p.plan : 'Orch Preview';
    $('goal').textContent = p && p.goal ? p.goal : '';

    const errors = $('errors');
    const errs = Array.isArray(data.errors) ? data.errors : [];
    errors.hidden = errs.length === 0;
    errors.replaceChildren(...(errs.length ? [el('h2', {}, 'Problems'), ...errs.map((e) => el('pre', {}, e))] : []));

    const steps = p && Array.isArray(p.steps) ? p.steps : [];
    renderGraph(data, steps);

    if (!p) {
      $('summary').replaceChildren();
      $('steps').replaceChildren();
      $('guardrails').replaceChildren();
      return;
    }
    const e = p.estimates || {};
    const budget = (b, fmt) => (b ? el('span', { class: b.ok ? 'ok' : 'over' }, fmt(b.estimate) + ' of ' + fmt(b.limit) + (b.ok ? ' ✓' : ' — over budget')) : el('span', { class: 'muted' }, 'no budget'));
    $('summary').replaceChildren(
      el('h2', {}, 'Estimates'),
      el('div', { class: 'kv', id: 'estimates' },
        el('span', {}, 'cost'), el('span', { 'data-field': 'cost' }, formatCost(e.cost)),
        el('span', {}, 'duration'), el('span', { 'data-field': 'duration' }, formatDuration(e.duration_ms)),
        el('span', {}, 'critical path'), el('span', {}, (e.critical_path || []).join(' → ') || '—'),
        el('span', {}, 'local ratio'), el('span', {}, typeof e.local_ratio === 'number' ? Math.round(e.local_ratio * 100) + '%' : '—'),
        el('span', {}, 'policy'), el('span', {}, p.policy ? p.policy.name + ' (' + p.policy.strategy + ')' : 'none'),
        el('span', {}, 'cost budget'), budget(p.budgets && p.budgets.cost, formatCost),
        el('span', {}, 'duration budget'), budget(p.budgets && p.budgets.duration_ms, formatDuration),
      ),
    );
    $('steps').replaceChildren(
      el('h2', {}, 'Steps'),
      table(['step', 'stage', 'action', 'resource', 'cost', 'duration', 'after'], steps.map((s) => [
        td(s.id), td(s.stage, 'num'), td((s.capability || s.action) + (s.conditional ? ' (when)' : '')), td(s.resource ? s.resource + (s.tier ? ' (' + s.tier + ')' : '') : '—'),
        td(formatCost(s.estimate && s.estimate.cost), 'num'), td(formatDuration(s.estimate && s.estimate.duration_ms), 'num'), td((s.deps || []).join(', ')),
      ])),
    );
    const guards = Array.isArray(p.guardrails) ? p.guardrails : [];
    $('guardrails').replaceChildren(...(guards.length ? [
      el('h2', {}, 'Guardrails'),
      table(['guardrail', 'severity', 'verdict'], guards.map((g) => [td(g.name), td(g.severity), td(g.verdict, 'verdict-' + g.verdict)])),
    ] : []));
  }

  $('plan').addEventListener('change', (ev) => {
    chosenScale = 'auto';
    if (vscode) vscode.postMessage({ type: 'selectPlan', plan: ev.target.value });
  });
  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m && m.type === 'preview') renderPreview(m.data);
    else if (m && m.type === 'error') renderPreview({ plans: [], preview: null, svg: null, errors: [m.message] });
  });
  window.renderPreview = renderPreview;
})();
