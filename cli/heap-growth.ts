/**
 * V8 lets the old generation grow to several times what survived the last full collection
 * before it collects again. A large `orch run` first holds its whole compile (AST, checked plan
 * and IR: ~500 MB for 100,000 steps), then mostly garbage: at V8's default factor the process
 * peaked over 1 GB and kept the step events of the run on the heap as garbage until the end.
 * Growing by at most 30 % of what is live bounds the peak at about 1.3 × the live heap (~320 MB
 * live during a 100,000-step run). At 50 % the run peaked at 678–713 MiB, over #54's 700 in one
 * quiet bench run of five; at 30 % it read 633–643 MiB for ~10 % more CPU (25 %: no lower, 23 %
 * more CPU; three interleaved runs of each at load 4–8). bench/large.ts measures both. Since each
 * IR step stopped having a hidden class of its own (~210 MB live; docs/performance.md, h-mem) 30 %
 * reads 491–501 MiB and 50 % 518, 524 and 636 (the compile's own peak) for ~10 % less CPU. `orch check` of a large input sets it
 * too, less tightly (150 %): its tree is most of the heap (100,000 steps: ~640 → ~500 MB). The flag is read
 * at each collection, so setting it after start-up takes effect.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let bounded = false;

export function boundHeapGrowth(percent = 30): void {
  if (bounded) return;
  bounded = true;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * One full collection, now. `orch run` of a large source calls it between the compile and the
 * run's start: the compile's garbage (its tree, facts and text: ~400 MB for 100,000 steps) is
 * then freed before the run stores its IR and makes its instances, instead of whenever the
 * collector next decides — which either came before that start (~650 MB peak) or after it
 * (~840 MB). Costs one full mark of what is live (the IR), a fraction of the compile.
 */
export function collectNow(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
