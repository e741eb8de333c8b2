/**
 * The vocabulary the corpus's three tables share: the two rules (labels), the value types a hop
 * carries, the one change that turns a violating plan into its clean twin (a fix), and the
 * environment one plan is built in — its program, the fix applied (none in the violating plan)
 * and the seeded choices that make the violating plan and its twin the same plan but for that fix.
 */
import { createHash } from 'node:crypto';
import type { Block, PlanText, Program } from './program.js';

/** E0902 follows integrity, E0903 confidentiality (LANGUAGE.md §9.3). */
export type Label = 'integrity' | 'confidentiality';
export const CODE: Record<Label, 'E0902' | 'E0903'> = { integrity: 'E0902', confidentiality: 'E0903' };

/** What a hop carries: a string, a list of strings, a bool (for a `when`) or a record. */
export type Ty = 'text' | 'list' | 'flag' | 'record';
export const ORCH_TYPE: Record<Ty, string> = {
  text: 'string',
  list: 'list<string>',
  flag: 'bool',
  record: '{ value: string, origin: string }',
};
/** A value of each type that no rule cares about. */
export const CONSTANT: Record<Ty, string> = {
  text: '"ops"',
  list: '["ops@example.com"]',
  flag: 'false',
  record: '{ value: "ops", origin: "corpus" }',
};

export interface Value {
  readonly expr: string;
  readonly ty: Ty;
}

/** A read of a source: the value, and the words its witness path must name. */
export interface Read {
  readonly value: Value;
  readonly tokens: readonly string[];
}

/**
 * The one change of a twin. Values first (universal), then what a source, a sink or a hop offers.
 * `FIXES` below says what each does, for the README and the printed matrix.
 */
export type FixId =
  | 'endorse'
  | 'validator'
  | 'approval'
  | 'declassify'
  | 'source'
  | 'untrusted-param'
  | 'not-destructive'
  | 'other-argument'
  | 'chain-endorses'
  | 'accepts'
  | 'local-resource'
  | 'endpoint-accepts'
  | 'endpoint-local'
  | 'raise-data'
  | 'internal-channel'
  | 'recipient';

export const FIXES: Record<FixId, string> = {
  endorse: 'endorse(V, reason: …) at the sink',
  validator: 'V goes through a capability with endorses true',
  approval: 'a person approves V: the sink reads approval output.subject',
  declassify: 'declassify(V, to: …, reason: …) at the sink',
  source: 'the source is not one (no @untrusted / trust untrusted / class; trust trusted; endorses true)',
  'untrusted-param': 'the destructive parameter is marked @untrusted',
  'not-destructive': 'the step the when guards is not destructive',
  'other-argument': 'V goes to a parameter that needs no trust; the sink gets a constant',
  'chain-endorses': 'the last capability of the chain declares endorses true',
  accepts: 'the resource says accepts CLASS',
  'local-resource': 'the resource is a local_device',
  'endpoint-accepts': 'the endpoint says "accepts": CLASS',
  'endpoint-local': 'the endpoint is local (loopback base_url or "tier": "local")',
  'raise-data': 'the capability declares the value\'s class as its data',
  'internal-channel': 'the channel says "internal": true',
  recipient: 'V goes to the email\'s to (the recipient-address exception)',
};

/** A fix a part cannot make in this plan (e.g. the value has no parameter of its type to go to). */
export class Inapplicable extends Error {}

export interface Env {
  readonly p: Program;
  readonly label: Label;
  /** The main plan: where the run starts and plan input lives. */
  readonly main: PlanText;
  /** The pair's fix, in both plans: parts that must look a certain way for it (a refinement to add `trust trusted` to) read it. */
  readonly planned: FixId;
  /** The fix applied: null in the violating plan, `planned` in the twin. */
  readonly fix: FixId | null;
  /** The class a confidentiality source carries (set by the sink: edge tiers take personal). */
  level: 'personal' | 'sensitive';
  /** A seeded choice among n, the same in both plans of a pair. */
  pick(knob: string, n: number): number;
}

/** The seeded choice of `pick`: a hash of the seed, the pair and the knob (no hand-written PRNG). */
export function chooser(seed: string, pair: string): (knob: string, n: number) => number {
  return (knob, n) => createHash('sha256').update(`${seed}\u0000${pair}\u0000${knob}`).digest().readUInt32BE(0) % n;
}

/** The validator every type has: a deterministic check whose output is trusted whatever it read. */
export function validatorCap(block: Block, ty: Ty): string {
  return block.plan.file.cap(`vet_${ty}`, `kind tool
input { v: ${ORCH_TYPE[ty]} }
output { v: ${ORCH_TYPE[ty]} }
handler "./handlers.js#h"
endorses true
requires cpu`);
}

/**
 * The value a sink receives, after the twin's fix when the fix is made at the value: endorse or
 * declassify around it, or a validator or an approval step just before the sink (never inside a
 * race, whose steps are its branches).
 */
export function guard(env: Env, block: Block, value: Value): Value {
  const host = block.raceBranches ? block.parent! : block;
  const before = (step: string): void => (block.raceBranches ? host.insertBefore(block, step) : host.add(step));
  switch (env.fix) {
    case 'endorse':
      return { expr: `endorse(${value.expr}, reason: "checked against the allow-list")`, ty: value.ty };
    case 'declassify': {
      const to = env.level === 'sensitive' ? 'to: personal, ' : env.pick('declassify-to', 2) ? 'to: internal, ' : '';
      return { expr: `declassify(${value.expr}, ${to}reason: "aggregated before it leaves")`, ty: value.ty };
    }
    case 'validator': {
      const id = env.p.name('vetted');
      before(`step ${id} = ${validatorCap(host, value.ty)}(v: ${value.expr})`);
      return { expr: `${id}.output.v`, ty: value.ty };
    }
    case 'approval': {
      const id = env.p.name('vouched');
      before(`step ${id} = approval(approver: "lead", summary: "Is this the right value?", subject: ${value.expr})`);
      return { expr: `${id}.output.subject`, ty: value.ty };
    }
    default:
      return value;
  }
}
