// The plan preview page. Standalone: give it the `orch/preview` result with
// `window.renderPreview(data)` or a `{type: 'preview', data}` message; inside VS Code the
// extension posts those messages and receives `{type: 'selectPlan', plan}` back.
(function () {
  'use strict';
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  const $ = (id) => document.getElementById(id);

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
  function formatCost(n) {
    return typeof n === 'number' && isFinite(n) ? String(+n.toFixed(6)) : '—';
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
    renderPlans(data);
    $('title').textContent = p ? 'Plan ' + p.plan : 'Orch Preview';
    $('goal').textContent = p && p.goal ? p.goal : '';

    const errors = $('errors');
    const errs = Array.isArray(data.errors) ? data.errors : [];
    errors.hidden = errs.length === 0;
    errors.replaceChildren(...(errs.length ? [el('h2', {}, 'Problems'), ...errs.map((e) => el('pre', {}, e))] : []));

    const graph = $('graph');
    const svg = typeof data.svg === 'string' ? safeSvg(data.svg) : null;
    graph.replaceChildren(svg || el('p', { class: 'muted' }, p ? 'No graph.' : 'No plan compiled — fix the problems above.'));

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
    const steps = Array.isArray(p.steps) ? p.steps : [];
    $('steps').replaceChildren(
      el('h2', {}, 'Steps'),
      table(['step', 'stage', 'action', 'resource', 'cost', 'duration', 'after'], steps.map((s) => [
        td(s.id), td(s.stage, 'num'), td(s.capability || s.action), td(s.resource ? s.resource + (s.tier ? ' (' + s.tier + ')' : '') : '—'),
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
    if (vscode) vscode.postMessage({ type: 'selectPlan', plan: ev.target.value });
  });
  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m && m.type === 'preview') renderPreview(m.data);
    else if (m && m.type === 'error') renderPreview({ plans: [], preview: null, svg: null, errors: [m.message] });
  });
  window.renderPreview = renderPreview;
})();
