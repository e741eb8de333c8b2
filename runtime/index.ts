/**
 * The runtime layer's public surface: what verify/, serve/, lsp/, cli/, bench/ and the tests use
 * of it, and nothing else. The wiring lives where its job is named: `runtime.ts` (the `Runtime`),
 * `run-executors.ts` (where steps run), `run-wiring.ts` (what each run's scheduler is handed),
 * `backend/` (where everything is kept, chosen once by `openBackend`).
 *
 * ```ts
 * const rt = await Runtime.open({ db: '.orch/runs.db', workers: 4 });   // or db: 'postgres://…'
 * const active = await rt.start(plan, { input });
 * const result = await active.result;      // ExecutionResult (LANGUAGE.md §6)
 * await rt.close();
 * ```
 */
import type { ClusterDatabase } from './backend/index.js';
import type { WorkerOptions, WorkerRow } from './cluster/worker.js';

// ── the runtime ──
export { newRunId, resumeRun, Runtime, startRun, traceUrlTemplate } from './runtime.js';
export { forkRun, IncompatibleFork, type ForkOptions } from './fork-run.js';
export { downstreamClosure, forkAdoption } from './fork.js';
export type { ActiveRun, Placement, ResumeOptions, RunPlacement, RuntimeOptions, StartOptions } from './runtime-options.js';
export { RuntimeUsageError } from './usage-error.js';
export type { ControlOutcome } from './journal-controls.js';
export { boundToPeople } from './journal-controls.js';
export { checkUpgrade, outputFieldReads, upgradeRun, type UpgradeCheck, type UpgradeOutcome, type UpgradeReason } from './upgrade.js';
export { loadPlan, portablePlan, readJsonArg, type LoadPlanOptions } from './load-plan.js';
export { EMPTY_CONFIG, loadConfig, redactConfigSecrets, secretResolver, type OrchConfig } from './config.js';
export { envThenConfig, type SecretLookup } from './secret-refs.js';
export { Redactor, SUBSTRING_MIN } from './redact.js';
export { SecretView, mapClassed, runView, secretSignals, shownResult, shownSignal } from './redact-classes.js';
export { REDACTED, condition, evaluate, evaluateOrUnknown, formatAge, truthy, unknownReason, UNKNOWN, type EvalEnv, type SignalRead, type Truth } from './evaluate.js';
export { nextTimeChange, readsClock, RECHECK_MS } from './time-change.js';
export { parseSourcesConfig, type SourceConnection } from './context/sources/config.js';
export { isTopicName, parsePayload, SourceIngest, topicMatches, type ContextSink, type SourceMessage } from './context/sources/ingest.js';
export { sessionClientId, startMqttSource, type MqttSourceOptions, type SourceClient } from './context/sources/mqtt-client.js';
export { derivedReader, hasDerived } from './context/derived-read.js';
export { hasHold } from './context/run-context.js';
export { ContextStore, UNKNOWN_AGE, type ContextChange, type ContextStoreOptions, type HoldState, type SetResult, type SignalRecord, type SignalState } from './context/store.js';
export { COALESCE_WINDOW_MS, ContextJournaling, type ContextJournalingOptions } from './context/journaling.js';
export { attemptSpend, spendBy, type AttemptSpend, type SpendTotals } from './spend.js';
export { placedSteps, placedTier } from './placed-steps.js';

// ── where runs are kept ──
export {
  databaseOf,
  DEFAULT_DB,
  JournalCorrupt,
  LeaseLost,
  memoryBackend,
  openBackend,
  parseAge,
  soleHolder,
  type AsyncJournal,
  type ClusterLock,
  type Backend,
  type BackendCapabilities,
  type BackendKind,
  type ControlRow,
  type MigrateResult,
  type PruneResult,
  type BackendPruneResult,
  type RunRow,
  triggerOfRow,
  type SessionStore,
  type TriggerStateStore,
  type ContextEventQuery,
  type ContextEventRow,
  type ContextEventType,
  type ContextJournal,
  type StoredContextEvent,
} from './backend/index.js';
/** SQLite's own engine and file layout, for the benches that measure them. */
export { openSqlite, SEQ_SPAN, sqliteDriver, type SqlDatabase, type SqliteDriverName } from './backend/index.js';

// ── the scheduler ── (its types are its contract: all of them)
export type * from './scheduler/types.js';
export { RUN_STATUSES } from './scheduler/types.js';
export { Run, RunDetached } from './scheduler/run.js';
export { neededScopes } from './scheduler/core/consent.js';
export { baseId } from './scheduler/core/state.js';
export { callTier } from './scheduler/core/guards.js';
export { preStepViolations, type GuardStep } from './scheduler/guardrails.js';
export { replay, type RestoredStep } from './scheduler/replay.js';
export { realClock, resultFromJournal, VirtualClock } from './scheduler/index.js';
export {
  InProcessLimits,
  InRunLimits,
  LimitCounters,
  rateWindow,
  type LimitsProvider,
  type LimitsService,
  type SharedClaim,
  type SharedGrant,
  type SharedLimitStore,
} from './scheduler/index.js';
export {
  EVENT_TYPES,
  EVENTS_SCHEMA_ID,
  EVENTS_VERSION,
  eventAttempt,
  eventReason,
  eventResource,
  eventsJsonSchema,
  isEventType,
  makeEvent,
  storedEvent,
} from './scheduler/journal-events.js';

// ── executors, the cluster, telemetry, models, MCP, channels ──
export { workerScript, WorkerExecutor } from './executor/worker-executor.js';
export { fillDefaults } from './executor/value-defaults.js';
export { planInput } from './plan-input.js';
export { projectRoot } from './executor/handler-path.js';
export { toJsonOutput, DEFAULT_MAX_OUTPUT_BYTES } from './executor/json-output.js';
export { CLUSTER_TIME_SCALE_ENV, CLUSTER_TIMING_ENV, clusterTiming, DEFAULT_CLUSTER_TIMING, type ClusterTiming } from './cluster/timing.js';
export type { WorkerOptions, WorkerRow } from './cluster/worker.js';
export { traceLink } from './telemetry/settings.js';
export { parseTraceparent, formatTraceparent, type SpanRef } from './telemetry/traceparent.js';
export type { AttemptUsage, StoredTrace } from './telemetry/tracing.js';
export * from './models/index.js';
export { importedServers, lockProject, type LockOptions, type LockResult } from './mcp/lock.js';
export { McpTools } from './mcp/tools.js';
export { connectServer, serverSpec, type McpConnection, type McpServerSpec } from './mcp/connect.js';
export { ChannelSender } from './channels/sender.js';
export { borrowedEdge, type EdgeHandler } from './executor/edge.js';

// ── people (LANGUAGE.md §8.8) ──
export {
  ROLES,
  AUTH_METHODS,
  START_METHODS,
  LOCAL_ISSUER,
  OS_ISSUER,
  SYSTEM_ISSUER,
  recordOf,
  starterOf,
  cliStarter,
  triggerStarter,
  type Role,
  type AuthMethod,
  type StartMethod,
  type Identity,
  type RecordedIdentity,
  type PersonRef,
  type Starter,
} from './people/identity.js';
export { CHAIN_LINKS, linkedRuns } from './people/run-chain.js';
export { chainOf, type RunOrigin } from './scheduler/core/run-origin.js';
export {
  parseOidcConfig,
  oidcClientSecret,
  isLoopbackHost,
  OidcConfigError,
  DEFAULT_GROUPS_CLAIM,
  OIDC_CALLBACK_PATH,
  OIDC_LOGIN_PATH,
  type OidcConfig,
} from './people/oidc-config.js';
export {
  identityFromClaims,
  groupsFromClaim,
  rolesOfGroups,
  displayName,
  idTokenTimeProblem,
  ID_TOKEN_CLOCK_TOLERANCE_S,
  type Claims,
  type IdentityFromClaims,
} from './people/oidc-identity.js';
export { AuthConfigError, localRoles, looksLikePasswordHash, parseAuthConfig, type AuthConfig, type LocalUser, type PasswordRef } from './people/auth-config.js';
export { decoyHash, hashClass, hashPassword, prepareDecoys, verifyAtOneCost, verifyPassword } from './people/passwords.js';
export {
  newApiToken,
  sha256Hex,
  revokeTokensOfRemovedUsers,
  HOUR_MS,
  type ApiTokenRow,
  type AuditEntry,
  type AuditQuery,
  type AuditRow,
  type LoginFailures,
  type PeopleStore,
  type RefusedCount,
  type StartedRun,
  type StoredSession,
} from './people/people-store.js';
export { approvalRule, matchesApprover, refusal as approvalRefusal, samePerson, GROUP_PREFIX, type ApprovalRule, type DecisionState } from './scheduler/core/approvers.js';

/** `orch worker`: runs steps of a cluster's runs until SIGINT / SIGTERM (pg loaded on demand). */
export async function runOrchWorker(opts: WorkerOptions): Promise<void> {
  return (await import('./cluster/worker.js')).runWorker(opts);
}

/** `orch workers`: the workers registered on the cluster's database (live ones unless `all`). */
export async function listOrchWorkers(db: ClusterDatabase, all = false): Promise<WorkerRow[]> {
  return (await import('./cluster/worker.js')).listWorkers(db, all);
}
export { makeFolders } from './make-folders.js';
