/**
 * `orch check --explain-stages`: the compile's stages in the order they ran, each with its wall
 * time and how often it ran (a plan's stages, indented under `assemble`, once per plan), and the
 * total. A stage's time excludes the stages run within it, so the times add up to the total.
 */
import type { StageTiming } from '../compiler/index.js';

export function renderStageTimings(timings: readonly StageTiming[]): string {
  const rows = timings.map((t) => [`${'  '.repeat(t.depth)}${t.name}`, t.ms.toFixed(1), String(t.runs)]);
  const total = timings.reduce((sum, t) => sum + t.ms, 0);
  const all = [['stage', 'wall ms', 'runs'], ...rows, ['total', total.toFixed(1), '']];
  const width = [0, 1, 2].map((c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => `${r[0]!.padEnd(width[0]!)}  ${r[1]!.padStart(width[1]!)}  ${r[2]!.padStart(width[2]!)}`.trimEnd()).join('\n') + '\n';
}
