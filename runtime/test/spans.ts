/** Wall-clock spans recorded by test handlers, and how many were open at once. */
export interface Span {
  start: number;
  end: number;
  who: string;
}

/** The most spans open at one instant (an end and a start in the same millisecond do not overlap). */
export function maxOverlap(list: readonly Span[]): number {
  const points = list.flatMap((s) => [
    { t: s.start, d: 1 },
    { t: s.end, d: -1 },
  ]);
  points.sort((a, b) => a.t - b.t || a.d - b.d);
  let cur = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (cur += p.d));
  return max;
}
