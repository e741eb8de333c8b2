/** The words of the language by the block they may appear in (LANGUAGE.md §4), for completion. */
import {
  CAPABILITY_KINDS, DATA_CLASSES, GUARDRAIL_SEVERITIES, INTEGRITIES, JOIN_RULES, PRIORITIES, RESOURCE_KINDS, STRATEGIES,
} from '../language/index.js';

export const TOP_LEVEL_KEYWORDS = [
  'module', 'import', 'type', 'capability', 'resource', 'policy', 'guardrail', 'context', 'plan', 'trigger',
  'invariant', 'simulate', 'source', 'test',
] as const;

/** Properties allowed inside each kind of block, keyed by the block's header word. */
export const BLOCK_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  capability: ['kind', 'input', 'output', 'handler', 'timeout', 'retry', 'cost', 'latency', 'data', 'consent', 'requires', 'idempotent', 'destructive', 'system', 'prompt', 'model', 'endpoint', 'temperature', 'max_tokens', 'trust', 'endorses'],
  resource: ['kind', 'provides', 'concurrency', 'cost', 'latency', 'reliability', 'location', 'energy', 'endpoint', 'model', 'accepts', 'available'],
  policy: ['strategy', 'weights', 'budget', 'prefer', 'max_fallbacks', 'require_consent', 'rate_limit'],
  guardrail: ['severity', 'category', 'message', 'forbid', 'require', 'assert', 'check'],
  plan: ['goal', 'input', 'policy', 'guardrails', 'priority', 'deadline', 'concurrency', 'on_failure', 'step', 'for', 'race', 'repeat', 'success', 'output', 'invariant'],
  step: ['after', 'on', 'fallback', 'compensate', 'timeout', 'retry', 'join', 'on_failure', 'priority', 'when'],
  for: ['step', 'for', 'race', 'repeat'],
  race: ['step'],
  repeat: ['step', 'for', 'race', 'repeat'],
  trigger: ['schedule', 'timezone', 'event', 'manual', 'api', 'when', 'after', 'run', 'with', 'debounce'],
  invariant: ['always', 'never', 'eventually'],
  simulate: ['output', 'fail', 'latency', 'cost'],
  // v0.4 (§9.2, §9.4)
  test: ['plan', 'started_by', 'input', 'context', 'mock', 'approve', 'reject', 'signal', 'expect', 'captured_from'],
  source: ['topic'],
};

/** Words that continue a v0.4 item after its first words (`mock x returns … then …`), for completion. */
export const CLAUSE_KEYWORDS: Readonly<Record<string, readonly string[]>> = {
  mock: ['where', 'returns', 'then', 'fails', 'times', 'latency', 'cost', 'usage'],
  approve: ['by', 'at'],
  reject: ['by', 'at'],
  signal: ['at'],
  expect: ['always'],
  topic: ['sets', 'from', 'at'],
  available: ['when'],
};

/** Fixed value sets after a property keyword. */
export const VALUE_WORDS: Readonly<Record<string, readonly string[]>> = {
  strategy: STRATEGIES,
  prefer: ['local', 'edge', 'cloud'],
  severity: GUARDRAIL_SEVERITIES,
  priority: PRIORITIES,
  join: JOIN_RULES,
  data: DATA_CLASSES,
  backoff: ['fixed', 'exponential'],
  idempotent: ['true', 'false'],
  destructive: ['true', 'false'],
  require_consent: ['true', 'false'],
  budget: ['cost', 'duration'],
  trust: INTEGRITIES,
  endorses: ['true', 'false'],
  accepts: DATA_CLASSES,
};
export const CAPABILITY_KIND_WORDS = CAPABILITY_KINDS;
export const RESOURCE_KIND_WORDS = RESOURCE_KINDS;

export const PRIMITIVE_TYPES = ['string', 'number', 'int', 'bool', 'duration', 'money', 'percent', 'any', 'secret', 'list', 'map'] as const;

export const BUILTIN_FUNCTIONS: Readonly<Record<string, string>> = {
  len: 'len(x): number of items of a list, characters of a string, or entries of a record',
  contains: 'contains(haystack, needle): list membership or substring test',
  lower: 'lower(s): lower-case string',
  upper: 'upper(s): upper-case string',
  min: 'min(a, b, …) or min(list): smallest value (like units only)',
  max: 'max(a, b, …) or max(list): largest value (like units only)',
  sum: 'sum(list): total of a list of like-unit values',
  round: 'round(x, digits?): rounded number',
  now: 'now(): current time',
  format: 'format(template, …): string formatting',
  split: 'split(s, separator): list<string> — the parts of s between the separators',
  lines: 'lines(s): list<string> — the lines of s',
  secret: 'secret("NAME"): a secret resolved only at run time; redacted everywhere it is shown',
  known: 'known(context.X): bool — the signal is set and not older than its max_age',
  age: 'age(context.X): duration since the signal was set (unknown when never set)',
  endorse: 'endorse(value, reason: "…"): the value made trusted, because the plan’s author vouches for it (journaled)',
  declassify: 'declassify(value, to: CLASS, reason: "…"): the value’s data class lowered (to: internal by default; journaled)',
  calls: 'calls(CAP), in a test: the inputs of the calls CAP received, in order',
};

/** Attributes every step exposes in expressions (LANGUAGE.md §4, plans and steps). */
export const STEP_ATTRIBUTES: Readonly<Record<string, string>> = {
  output: 'the step’s output (a list of per-item outputs for a step inside `for each`, read outside it)',
  status: 'pending | queued | running | paused | completed | failed | skipped | cancelled | timeout',
  started: 'bool: the step has started',
  completed: 'bool: the step completed',
  failed: 'bool: the step failed',
  skipped: 'bool: the step was skipped',
  attempts: 'int: attempts made',
  duration: 'duration: how long the step ran',
  cost: 'money: what the step cost',
  resource: 'string: the resource it ran on',
  input: 'the arguments it was called with (in a test’s expect: charge.input.amount)',
};

/** What `run.` reads in a guardrail, an invariant or a test's `expect` (LANGUAGE.md §4, §9.2). */
export const RUN_ATTRIBUTES: Readonly<Record<string, string>> = {
  status: 'string: running | completed | failed | cancelled | …',
  cost: 'money: what the run has cost so far',
  elapsed: 'duration: time since the run started (virtual, in a test)',
  output: 'the plan’s output (in a test’s expect)',
};

/** What a `race NAME` block exposes (LANGUAGE.md §7.1). */
export const RACE_ATTRIBUTES: Readonly<Record<string, string>> = {
  winner: 'the name of the branch that completed first (null until one does)',
  output: 'the winning branch’s output',
  status: 'pending | running | completed | failed',
  started: 'bool: the race has started',
  completed: 'bool: a branch won',
  failed: 'bool: every branch ended without completing',
};

/** What a `repeat NAME` block exposes (LANGUAGE.md §7.1). */
export const REPEAT_ATTRIBUTES: Readonly<Record<string, string>> = {
  index: 'int, inside the loop: the current iteration, from 0',
  previous: 'inside the loop: the previous iteration’s steps (`NAME.previous.step.output`), null in the first — read it with ??',
  iterations: 'int, after the loop: how many iterations ran',
  status: 'pending | running | completed | failed (exhausted)',
  completed: 'bool: the loop ended with its condition holding',
  failed: 'bool: the loop was exhausted',
};

export const EXPRESSION_ROOTS: Readonly<Record<string, string>> = {
  input: 'the plan input',
  context: 'live context signals',
  plan: 'plan estimates: cost, duration, steps, local_ratio',
  run: 'run actuals: cost, elapsed, status (and output, in a test)',
  step: 'the step a guardrail is evaluated for: data, placement, tier, kind, capability, …',
  output: 'the checked step’s output (in `check`)',
  event: 'the trigger’s event payload',
  payload: 'in a source’s topic mapping: the message (parsed JSON, else its text)',
  topic: 'in a source’s topic mapping: the topic the message came on',
};

/** What a v0.4 keyword means, for hover on the word itself (LANGUAGE.md §9.2–§9.4). */
export const KEYWORD_DOCS: Readonly<Record<string, string>> = {
  test: 'test "NAME" { … }: runs a plan under mocks and a virtual clock and checks its expects (`orch test`; ignored by compile and run)',
  started_by: 'started_by "NAME", in a test: who started the run (default `test`), for `not_starter`',
  captured_from: 'captured_from "RUN" ir_hash "HASH": the run and plan version `orch test --capture` wrote this test from',
  mock: 'mock CAP [where COND] returns V [then V]… [latency D] [cost M | usage {…}] | fails "MESSAGE" [times N then returns V]: answers CAP’s calls in the test instead of its handler',
  returns: 'in a mock: the answers, in call order (the last repeats)',
  fails: 'in a mock: its calls fail with this message (all, or the first `times N`)',
  usage: 'in a mock: the tokens each answer used, priced as a model call',
  approve: 'approve STEP by PEOPLE [at D], in a test: approves the approval step as those people (at a virtual time after it begins to wait)',
  reject: 'reject STEP by PEOPLE [at D], in a test: rejects the approval step as those people',
  signal: 'signal context.X = V at D, in a test: sets a signal at a virtual time since the run started',
  expect: 'expect P | expect always P, in a test: P holds in the run’s final state (always: in every state)',
  source: 'source NAME { topic "T" sets SIGNAL [from EXPR] [at EXPR] … }: maps messages of the connection NAME in orch.config "sources" to context signals',
  sets: 'in a topic mapping: the context signal each message sets',
  max_age: 'max_age D: the signal is unknown (stale) once set longer ago than D',
  hold: 'hold D, on a derived signal: keeps a `true` for D after its expression turns `false`',
  available: 'available when COND: the resource is chosen only while COND is true (re-evaluated as its signals change or go stale)',
  trust: 'trust trusted | untrusted: the integrity of the capability’s output',
  endorses: 'endorses true: a deterministic validator — its output is trusted whatever it read',
  accepts: 'accepts CLASS: the highest data class this resource may receive, whatever its tier',
};

/** What an annotation `@WORD` on a field means (LANGUAGE.md §3, §9.3). */
export const ANNOTATION_DOCS: Readonly<Record<string, string>> = {
  public: 'data class public (lowest)',
  internal: 'data class internal: may go to a cloud tier and external channels',
  personal: 'data class personal: not to a cloud tier, a capability declaring a lower `data`, or an external channel',
  sensitive: 'data class sensitive: only to a local tier (or where `accepts` allows it)',
  secret: 'data class secret: only to a local tier; never written by `orch test --capture`',
  trusted: 'integrity trusted: a sink that needs trust accepts it (a parameter so marked needs a trusted value)',
  untrusted: 'integrity untrusted: the value may not reach a sink that needs trust (E0902) unless endorsed',
};

export const LITERAL_WORDS = ['true', 'false', 'null', 'and', 'or', 'not', 'in', 'implies'] as const;
