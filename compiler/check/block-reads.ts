/**
 * The rules about reading race and loop blocks that need every step of a plan checked.
 */
import type { Range } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { CheckedStep, PlanBlock } from './checked-plan.js';
import type { BlockRefInfo } from './expr.js';

const NO_IDS: readonly string[] = [];

/**
 * Rules that need every step checked: a read of a step of a loop or of a race branch from
 * outside the block waits for the whole block (its steps join the dependencies); a `join first` step, and a reader of a race
 * branch from outside the race, may read those outputs only inside `??` (E0201, §7.1).
 */
export function settleBlockReads(
  steps: readonly CheckedStep[],
  blocks: readonly PlanBlock[],
  names: ReadonlyMap<string, BlockRefInfo>,
  diags: Diagnostic[],
  file: string,
  readAt: (step: string, id: string) => Range | undefined,
): void {
  if (blocks.length === 0 && steps.every((s) => s.join !== 'first')) {
    // No race, loop or `for each`, no `join first`: no rule here applies (a plan of plain steps).
    // `waitsFor` only ever names blocks, and there are none.
    for (let i = 0; i < steps.length; i++) steps[i]!.waitsFor = NO_IDS;
    return;
  }
  const loopOf = new Map<string, PlanBlock[]>();
  const raceOf = new Map<string, PlanBlock>();
  for (const b of blocks) {
    if (b.kind === 'repeat') for (const s of b.steps) loopOf.set(s, [...(loopOf.get(s) ?? []), b]);
    if (b.kind === 'race') for (const s of b.steps) raceOf.set(s, b);
  }
  for (const s of steps) {
    const ownRace = raceOf.get(s.id);
    if (ownRace) siblingDependency(s, ownRace, diags, file, readAt);
    const waits = new Set(s.waitsFor);
    for (const r of s.refs) for (const loop of loopOf.get(r) ?? []) if (!s.blocks.includes(loop.id)) waits.add(loop.id);
    for (const a of s.after) for (const loop of loopOf.get(a) ?? []) if (!s.blocks.includes(loop.id)) waits.add(loop.id);
    // A branch read from outside its race is known when the race ends (a loser reads null).
    for (const r of [...s.refs, ...s.after]) {
      const race = raceOf.get(r);
      if (race && !s.blocks.includes(race.id)) waits.add(race.id);
    }
    const extra: string[] = [];
    for (const w of waits) {
      const b = blocks.find((x) => x.id === w);
      if (b) for (const id of b.steps) if (id !== s.id && !s.refs.includes(id) && !extra.includes(id)) extra.push(id);
    }
    if (extra.length) (s as { refs: readonly string[] }).refs = [...s.refs, ...extra];
    s.waitsFor = [...waits].filter((w) => names.has(w) || blocks.some((b) => b.id === w));
    const hard = s.skipIfSkipped.filter((id) => id !== s.id);
    if (s.join === 'first') {
      const deps = new Set([...s.refs, ...s.after]);
      deps.delete(s.id);
      if (deps.size >= 2 && hard.length)
        diags.push(diagnostic('E0201', `step "${s.id}" has "join first": it starts when one dependency completes, while the others may still run, so read ${hard.map((h) => `${h}.output`).join(', ')} inside a ?? chain (${hard[0]}.output.field ?? default)`, file, readAt(s.id, hard[0]!) ?? s.decl.name.range));
    }
    for (const id of hard) {
      const race = raceOf.get(id);
      if (race && !s.blocks.includes(race.id))
        diags.push(diagnostic('E0201', `step "${id}" is a branch of race ${race.id}: when it loses its output is null, so step "${s.id}" must read it inside a ?? chain (${id}.output.field ?? default), or read ${race.id}.output`, file, readAt(s.id, id) ?? s.decl.name.range));
    }
  }
}

/**
 * A race branch that waits for a sibling (`after a`, or any read of `a.…`) never competes with it:
 * the sibling completing ends the race before the branch can start, so the branch runs only when
 * the sibling did not complete — a fallback written as a race. E0303, as a race of one branch: the
 * race needs branches that compete (§7.1: each branch starts when its own dependencies allow).
 */
function siblingDependency(
  s: CheckedStep, race: PlanBlock, diags: Diagnostic[], file: string, readAt: (step: string, id: string) => Range | undefined,
): void {
  // A branch reading its own race (`r.winner`) depends on every branch, itself too: E0301 says so.
  if (s.refs.includes(s.id)) return;
  for (const id of new Set([...s.after, ...s.refs])) {
    if (!race.steps.includes(id)) continue;
    const at = s.decl.after.find((a) => a.name === id)?.range ?? readAt(s.id, id) ?? s.decl.name.range;
    diags.push(diagnostic('E0303', `step "${s.id}" of race ${race.id} waits for "${id}", another branch of the race: "${id}" completing ends the race and cancels "${s.id}", so the two never compete (for a step that runs when "${id}" fails, use a fallback or a step after the race)`, file, at));
  }
}
