/**
 * A duration as Orch prints it (`2s`, `1.5m`, `250ms`): W0502's budgets, E0401/W0402's
 * estimates, `orch preview` and the editor's hovers and hints say the same figure the same way.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms >= 3_600_000) return `${Math.round((ms / 3_600_000) * 100) / 100}h`;
  if (ms >= 60_000) return `${Math.round((ms / 60_000) * 100) / 100}m`;
  if (ms >= 1000) return `${Math.round((ms / 1000) * 100) / 100}s`;
  return `${Math.round(ms)}ms`;
}
