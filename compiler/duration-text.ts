/**
 * A duration as diagnostics print it (`2s`, `1.5m`, `250ms`): W0502's budgets and E0401/W0402's
 * estimates say the same figure the same way.
 */
export function fmtMs(n: number): string {
  if (n >= 3_600_000) return `${Math.round((n / 3_600_000) * 100) / 100}h`;
  if (n >= 60_000) return `${Math.round((n / 60_000) * 100) / 100}m`;
  if (n >= 1000) return `${Math.round((n / 1000) * 100) / 100}s`;
  return `${Math.round(n)}ms`;
}
