/**
 * The compiler's entry point (docs/architecture.md): `compile` turns an `.orch` file (and what it
 * imports) into diagnostics, the bound model editors navigate, and the IR of its plans; `check`
 * returns the diagnostics only. Neither ever throws: a broken module yields diagnostics, and what
 * can still be compiled is.
 *
 * For editors: `BoundModel` (compiler/model.ts) lists every `OrchSymbol` (declarations with
 * name range, doc and a hover signature), every `Reference` (resolved identifier → symbol id)
 * and `TypeAt` entries (expression/step types for hover); `compiler/navigate.ts` has lookups.
 */
import { capDiagnostics, compareDiagnostics, type Diagnostic } from '../language/index.js';
import { dedupe, internalError } from './diagnose.js';
import type { ContextIR, PlanIR } from './ir/types.js';
import { compactHost, diskHost, type SourceHost } from './load.js';
import type { BoundModel } from './model.js';
import { compileProgram } from './program.js';
import type { CompiledTest } from './tests/types.js';

export type { BoundModel, OrchSymbol, Reference, SymbolKind, TypeAt, ModuleModel } from './model.js';
export type { SourceHost } from './load.js';
export { diskHost } from './load.js';
export { symbolAt, referencesOf, declarationOf, typeAt } from './navigate.js';
export { preview, type PreviewJson } from './preview.js';
export { isPlainText, JSON_ANSWER_INSTRUCTION, modelWorstCase, promptTokenBound, type PromptText } from './model-prompt.js';
export { moneyText, round6, roundUnit, type ExactUnit } from './money.js';
export { countsForLocality, countsForPrivacy, localRatio, privacyScore, type PlacedStep } from './placement-metrics.js';
export { renderGraph, type GraphFormat } from './graph.js';
export { closest, didYouMean } from './suggest.js';
export { invariantLocator, type InvariantLocator } from './invariant-locator.js';
export { givenFolderWalk, orchFilesUnder, type OrchWalk } from './orch-files.js';
export { exportLine, handlerFile, handlerProblem, moduleExports, splitHandler, type HandlerProblem, type HandlerRef } from './handler-module.js';

export interface CompileInput {
  /** Path of the entry `.orch` file. */
  readonly entry: string;
  /** Where sources are read from (default: the disk); the LSP overlays unsaved buffers. */
  readonly host?: SourceHost;
  /** Compile only this plan of the entry module (all are still checked). */
  readonly plan?: string;
  /**
   * Record in `model` what editors navigate by: every expression's type and every reference.
   * Default true. A caller that only runs the IR says false: on a 100,000-step plan they are
   * millions of entries (a closure each for the types), a large share of the compile's memory.
   */
  readonly navigation?: boolean;
  /**
   * Parse with compact ranges (`LineIndex`): about a tenth less memory and time on a large file
   * (100,000 steps: 650 → 580 MB, 2.7 → 2.45 s for `orch check`). For a caller that keeps only
   * the diagnostics and the IR (`orch run`); not for one that reads the tree afterwards or copies
   * it to another thread.
   */
  readonly compact?: boolean;
  /**
   * Also check the program's `test` blocks and compile the entry's (LANGUAGE.md §9.2): `orch
   * test`. Without it tests are left alone, as `orch compile`, `run` and `serve` leave them.
   */
  readonly tests?: boolean;
}

export interface CompileOutput {
  /** Sorted by file, position, code. */
  readonly diagnostics: Diagnostic[];
  /** Undefined only if the compiler itself failed (then `diagnostics` says so). */
  readonly model: BoundModel | undefined;
  /** IR of the entry module's plans that compiled without errors (only `plan` when given). */
  readonly plans: PlanIR[];
  /** With `tests`: the entry module's tests whose plan compiled and that have no errors. */
  readonly tests: CompiledTest[];
  /** The program's context when it declares signals or sources (§9.4), for `orch serve`: also where no plan carries it. */
  readonly context?: ContextIR;
}

export function compile(input: CompileInput): CompileOutput {
  try {
    const navigation = input.navigation ?? true;
    const host = input.compact ? compactHost(input.host ?? diskHost) : (input.host ?? diskHost);
    const r = compileProgram({ entry: input.entry, host, plan: input.plan, recordTypes: navigation, recordReferences: navigation, tests: input.tests });
    return { diagnostics: capDiagnostics(dedupe(r.diagnostics).sort(compareDiagnostics)), model: r.model, plans: r.plans, tests: r.tests, ...(r.context ? { context: r.context } : {}) };
  } catch (err) {
    if (process.env.ORCH_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    return { diagnostics: [internalError(input.entry, err)], model: undefined, plans: [], tests: [] };
  }
}

export { check, checkLoading } from './diagnose.js';

// What the layers above use of this one. The IR types are a contract: all of them.
export type * from './ir/types.js';
export { checkFiles } from './check-files.js';
export { StageTimer, type StageTiming } from './stages.js';
export { isUnusedDeclaration, unusedAcrossChecks } from './unused.js';
export { checkExpr } from './check/expr.js';
export { approverNamesNobody, APPROVER_NAMES_NOBODY } from './check/approval-args.js';
export type { RootInfo } from './check/expr.js';
export { typeText } from './detail.js';
export { allExplanations, explanationFor } from './explain/catalog.js';
export type { Explanation } from './explain/catalog.js';
export { describeValueErrors, validateValue } from './ir/validate-value.js';
export { formatPathErrors, planVersionOf, validatePlanIR } from './ir/validate.js';
export { recheckAtLoad } from './ir/flow-recheck.js';
export { controlFlowFeatures, type ControlFlowFeature } from './ir/features.js';
export { contextReads, exprChildren, someNode } from './ir/nodes.js';
export { STD_DIR } from './load.js';
export { ModelBuilder } from './model.js';
export { packagePath } from './package-root.js';
export { irHash, irTextHash, shortHash } from './ir/hash.js';
export { jsonPieces } from './ir/json-pieces.js';
export { diffPlans, diffSteps, renderPlanDiff, stepAspects } from './diff/plan-diff.js';
export type { BudgetVerdict, PlanDiff, StepAspect, StepDiff } from './diff/plan-diff.js';
export { canonicalJson } from './canonical-json.js';
export type { CompiledTest, DecisionIR, ExpectIR, MockAnswer, MockIR, SignalIR, TestIdentity, TestPerson } from './tests/types.js';
export { boundaryOf } from './tests/plan-facts.js';
export { PlanMemo } from './plan-memo.js';
export { renderPreviewText } from './preview.js';
export { formatDuration } from './duration-text.js';
export { durationMs, percentFraction } from './check/expr-env.js';
export { lowerTriggers } from './triggers-ir.js';
export { apiPathProblem } from './triggers.js';
export type { TriggerIR, TriggerSourceIR } from './triggers-ir.js';
export { T } from './types/ty.js';
export { configKnown, configSection, declaresNoChannels, isProjectFile, jsonSyntaxError, projectConfigFor, projectRootOf, readProjectConfig } from './project-config.js';
export { CREDENTIAL_KEY, maskCredentialText, SECRET_REF_PREFIX } from './credentials.js';
export type { ProjectConfigView } from './project-config.js';
export { LOCK_FILE, LOCK_VERSION, lockText, lockTool, readMcpLock, toolHash } from './mcp-lock.js';
export type { LockView, McpLock, McpLockServer, McpLockTool, McpToolDescription } from './mcp-lock.js';
export { mcpModuleText, schemaType, toolIdent, toolShapes } from './mcp-module.js';
export { renameValue, type Shape } from './mcp-shape.js';
export { mcpModuleFile, mcpModulePath, mcpModuleSource } from './mcp-import.js';
export { higherTier, isLoopback, type EndpointTier } from './endpoint-tiers.js';
export { endpointOf, isModelCall, modelEndpointOf } from './ir/model-call.js';
