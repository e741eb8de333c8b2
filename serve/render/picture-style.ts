/**
 * The colours of the pictures, one stylesheet for the dashboard and the static files: statuses
 * and phases are classes or `data-status` values, light and dark through `prefers-color-scheme`
 * (and the dashboard's own theme switch, `[data-theme]`).
 */
export const PICTURE_CSS = `
:root { --bg:#f7f8fa; --panel:#ffffff; --ink:#1d2330; --muted:#5d6675; --line:#d5d9e0; --accent:#2f6fde;
  --pending:#e6e9ef; --queued:#c9d7f5; --running:#2f6fde; --waiting:#e0a31a; --completed:#2e9e5b; --failed:#d4443c;
  --skipped:#b7bcc6; --cancelled:#7d5ba6; --paused:#e0a31a; --retrying:#f08c2e; --compensated:#8a6d3b; }
@media (prefers-color-scheme: dark) { :root:not([data-theme=light]) { --bg:#12151b; --panel:#1b2029; --ink:#e4e8ef; --muted:#98a1b1; --line:#2f3643;
  --pending:#343b48; --queued:#34466b; --skipped:#4a505c; } }
:root[data-theme=dark] { --bg:#12151b; --panel:#1b2029; --ink:#e4e8ef; --muted:#98a1b1; --line:#2f3643; --pending:#343b48; --queued:#34466b; --skipped:#4a505c; }
svg text { font: 12px system-ui, sans-serif; fill: var(--ink); }
svg .edge { fill: none; stroke: var(--muted); stroke-width: 1.3; }
svg .arrow { fill: var(--muted); }
svg .node rect { fill: var(--pending); stroke: var(--line); stroke-width: 1.2; }
svg .node .id { font-weight: 600; }
svg .node .sub { fill: var(--muted); font-size: 11px; }
svg .node .block { fill: var(--muted); font-size: 9px; font-style: italic; }
svg .node:focus rect { stroke: var(--accent); stroke-width: 3; }
svg .node[data-status=queued] rect { fill: var(--queued); }
svg .node[data-status=running] rect { fill: var(--running); }
svg .node[data-status=running] text, svg .node[data-status=completed] text, svg .node[data-status=failed] text, svg .node[data-status=cancelled] text { fill: #fff; }
svg .node[data-status=waiting] rect, svg .node[data-status=paused] rect { fill: var(--waiting); }
svg .node[data-status=completed] rect { fill: var(--completed); }
svg .node[data-status=failed] rect { fill: var(--failed); }
svg .node[data-status=skipped] rect { fill: var(--skipped); }
svg .node[data-status=cancelled] rect { fill: var(--cancelled); }
svg .node[data-status=retrying] rect { fill: var(--retrying); }
svg .node[data-status=compensated] rect { fill: var(--compensated); }
svg .gantt-bg, svg .tick { stroke: var(--line); stroke-dasharray: 2 3; }
svg .axis { fill: var(--muted); font-size: 11px; }
svg .lane { font-weight: 700; fill: var(--muted); text-transform: uppercase; font-size: 11px; }
svg .bar.queued { fill: var(--queued); }
svg .bar.running { fill: var(--running); }
svg .bar.waiting { fill: var(--waiting); }
svg .bar.retried { fill: var(--retrying); }
svg .bar.cancelled { fill: var(--cancelled); }
svg .bar.lost { fill: var(--failed); }
svg .bar.compensating { fill: var(--compensated); }
svg .bar.open { opacity: .75; }
`;
