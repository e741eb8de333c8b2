/**
 * Money is shown to 6 decimals (a millionth of the currency unit): the IR's estimates, `orch
 * preview`, `orch run --json`, the journal's totals — and `step.cost` as expressions read it
 * (runtime/scheduler/core/views.ts), so a log line, a plan output and `--json` give one figure. The ledger itself keeps the exact sum (a
 * reservation settled to actual, `r + (a − r)`, leaves floating noise there, and rounding each
 * step would drop the spend of many tiny calls from a budget).
 */
export function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
