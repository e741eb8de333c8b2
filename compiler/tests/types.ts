/**
 * A `test` block compiled (LANGUAGE.md §9.2): what the test runner needs, with every name resolved
 * to the IR's (`refunds.charge` → the capability's IR name) and every value an `ExprIR` it
 * evaluates. Produced by `compile({ tests: true })`; `orch check` checks the same blocks.
 */
import type { Range } from '../../language/index.js';
import type { ExprIR, PlanIR } from '../ir/types.js';

export interface CompiledTest {
  /** The test's name as written (`test "NAME"`). */
  readonly name: string;
  /** The file that declares the test, and where. */
  readonly file: string;
  readonly range: Range;
  /** The plan under test, as the test names it (`refunds.refund_flow`). */
  readonly planName: string;
  /** Its IR (sub-plans included); the test runs this. */
  readonly plan: PlanIR;
  /** The program's currency (`usd`), when one is written: reports print amounts with it. */
  readonly currency?: string;
  /** `captured_from "RUN" ir_hash "HASH"`: written by `orch test --capture`. */
  readonly origin: { readonly run: string; readonly ir_hash: string } | null;
  /**
   * A captured test's names its plan no longer has (W0907 at check): such a test is stale, and
   * `orch test` fails it rather than running it.
   */
  readonly stale: readonly string[];
  /** Those of `stale` that are steps (the others are capabilities). */
  readonly staleSteps: readonly string[];
  /** Who starts the run (`started_by`, default `test`). */
  readonly startedBy: TestPerson;
  /** The run's input and context (record literals over nothing but literals). */
  readonly input: ExprIR | null;
  readonly context: ExprIR | null;
  readonly mocks: readonly MockIR[];
  /**
   * Refinements of an MCP tool the test names (`capability read_notes from files.read_text_file`)
   * → the tool's IR name: the tool's mocks answer their calls no mock of their own takes, and
   * `calls(TOOL)` lists them too.
   */
  readonly refines?: { readonly [capability: string]: string };
  /** `approve` / `reject` lines, in source order. */
  readonly decisions: readonly DecisionIR[];
  readonly signals: readonly SignalIR[];
  readonly expects: readonly ExpectIR[];
  /** Where each invariant of the plan is declared (by name), for a failure to point at it. */
  readonly invariants: { readonly [name: string]: { readonly file: string; readonly range: Range } };
}

/**
 * A person of a test (§8.8): a user of the config's `auth` block, or — with none — whoever the
 * name says. `group` set: `by "group:G"`, a member of G (the config's, or one made up for G).
 */
export interface TestPerson {
  /** As written in the test (`alice`, `group:finance`). */
  readonly written: string;
  /** The identities that may stand for it, in order (a group: its members; a name: one). */
  readonly candidates: readonly TestIdentity[];
}

export interface TestIdentity {
  readonly subject: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
}

export interface MockIR {
  /** The capability's IR name (`refunds.charge`, `std.capabilities.email`). */
  readonly capability: string;
  /** As written, for messages (`refunds.charge`). */
  readonly written: string;
  /** Over the call's `input`; null: answers every call no `where` mock took. */
  readonly where: ExprIR | null;
  /** The answers in call order, the last repeating (each may read the call's `input`). */
  readonly answers: readonly MockAnswer[];
  /** Virtual time each answer takes. */
  readonly latency_ms: number;
  /** What each answered call costs (`cost M`), replacing the capability's estimate; null: the estimate. */
  readonly cost: number | null;
  /** What each answered call reported it used (`usage {…}`), priced as §8.1 prices it. */
  readonly usage: { readonly input_tokens: number; readonly output_tokens: number; readonly model: string | null } | null;
  readonly line: number;
}

export type MockAnswer = { readonly ok: true; readonly value: ExprIR } | { readonly ok: false; readonly error: string };

export interface DecisionIR {
  readonly decision: 'approve' | 'reject';
  /** The approval step's id. */
  readonly step: string;
  /** The deciders, in order. */
  readonly by: readonly TestPerson[];
  /** Virtual ms after the step begins to wait. */
  readonly at_ms: number;
  readonly line: number;
}

export interface SignalIR {
  readonly signal: string;
  readonly value: ExprIR;
  /** Virtual ms after the run started. */
  readonly at_ms: number;
  readonly line: number;
}

export interface ExpectIR {
  /** `expect always P`: P in every state; else in the final state. */
  readonly always: boolean;
  readonly condition: ExprIR;
  /** The condition as written (printed), for reports. */
  readonly text: string;
  readonly line: number;
  readonly range: Range;
  /** The capabilities its `calls(CAP)` read: IR name → as written, for the values a report shows. */
  readonly calls?: { readonly [ir: string]: string };
}
