/**
 * Long-form explanations of every diagnostic code, shown by `orch explain CODE`.
 *
 * Typed as a `Record` over `DiagnosticCode` so that adding a code to `language/diagnostic.ts`
 * without explaining it is a compile error here. The snippets are complete `.orch` modules:
 * `trigger` produces the code and `fix` does not (the examples test compiles both).
 */
import type { DiagnosticCode, Severity } from '../../language/index.js';

export interface Explanation {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  /** One line, lower case, as in the LANGUAGE.md §5 table. */
  readonly title: string;
  /** Paragraphs separated by blank lines. */
  readonly details: string;
  /** A small module that produces the diagnostic. */
  readonly trigger: string;
  /** The same module, corrected. */
  readonly fix: string;
  /** Where LANGUAGE.md describes the rule. */
  readonly reference: string;
}

/** The tiny capability most snippets share, so each example shows only what matters. */
const ECHO = `capability echo {
  kind tool
  input { text: string }
  output { text: string }
}
`;

const CATALOG: Record<DiagnosticCode, Omit<Explanation, 'code'>> = {
  E0001: {
    severity: 'error',
    title: 'syntax error',
    details: `The parser met a token it did not expect. The message names what it found and what it
expected at that point (for example a closing parenthesis, a property keyword or an identifier).

The parser recovers at the next declaration or property keyword and keeps going, so one typo
does not hide the rest of the file; fix the first error first, because later ones may be
consequences of it. Common causes: an unclosed \`(\`, \`{\` or string, a missing comma between
arguments, or a property keyword misspelled (\`timout 30s\`).`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(text: "hi"
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §2 Lexical rules, §4 Declarations',
  },

  E0101: {
    severity: 'error',
    title: 'unresolved name',
    details: `A name was used that is not declared in scope: a step, capability, resource, policy,
guardrail, plan, type or import alias. Names are resolved in the module itself, then in its
imports (\`import std.guardrails { name }\` brings a name in unqualified; \`import std.policies\`
makes \`policies.name\` available; \`import "./x.orch" as x\` makes \`x.name\` available).

When a declared name is close to the one written, the diagnostic suggests it and offers a quick
fix. Steps declared inside a \`for each\` block are visible outside it as a list (\`send.output\`).`,
    trigger: `${ECHO}
plan hello {
  step greet = ecko(text: "hi")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §4 Declarations',
  },

  E0102: {
    severity: 'error',
    title: 'duplicate declaration in one scope',
    details: `Two declarations with the same name live in the same scope: two steps of one plan, two
capabilities of one module, two fields of one record, or the same property given twice in one
block (\`timeout 5s\` … \`timeout 10s\`).

Rename one of them, or delete the copy. The related information points at the first declaration.`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
  step greet = echo(text: "hello again")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
  step greet_again = echo(text: "hello again") {
    after greet
  }
}
`,
    reference: 'LANGUAGE.md §4 Declarations',
  },

  E0103: {
    severity: 'error',
    title: 'import not found / import cycle',
    details: `An import could not be satisfied. Either the file of a relative import
(\`import "./devices.orch" as devices\`) does not exist — paths are relative to the importing file —
or the std module does not exist (\`std.policies\`, \`std.guardrails\` and \`std.capabilities\` do),
or a chain of file imports leads back to the importing file.

For a cycle, the message lists the files in import order. Break it by moving the shared
declarations into a third file that both import.`,
    trigger: `import "./missing_devices.orch" as devices

${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §4 Declarations (imports)',
  },

  E0104: {
    severity: 'error',
    title: 'handler module or export not found',
    details: `A capability's \`handler "./handlers/x.mjs#fn"\` names a module (relative to the .orch file)
or an export that is not there. The check reads the module's text — it never runs it — for
\`export function\`, \`export const\`, \`export class\`, \`export { a, b as c }\` and \`export default\`
(a handler without \`#name\` uses the default export). The message suggests the closest file of
the folder, or the closest export of the module, as a quick fix.

Not judged: a module whose exports cannot be known without running it (\`export * from\`,
CommonJS \`module.exports\`), and a module whose folder does not exist (yet), such as handlers
built into \`dist/\` after the check. At run time a handler that cannot be loaded fails its step
at once, without retries, and costs nothing.`,
    trigger: `capability echo {
  kind tool
  input { text: string }
  output { text: string }
  handler "./no_such_handler.mjs#echo"
}

plan hello {
  step greet = echo(text: "hi")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'docs/language.md, Semantics decisions (handlers)',
  },

  E0201: {
    severity: 'error',
    title: 'type mismatch',
    details: `A value of one type was used where another is required: an argument whose type does not
match the capability's input field, a \`when\` or \`wait until\` condition that is not a \`bool\`,
or a comparison between unrelated types (\`a.output.text == 2\`). (A trigger's \`with { … }\`
value of the wrong type is reported as E0701.)

\`int\` is accepted where \`number\` is expected; string-literal enums accept only their listed
values; \`T?\` accepts \`null\`. Convert explicitly (\`format(…)\`) or change the declared type.`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(text: 42)
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "42")
}
`,
    reference: 'LANGUAGE.md §3 Types',
  },

  E0202: {
    severity: 'error',
    title: 'unknown argument, or missing required argument, in a capability call',
    details: `A capability call must pass exactly the fields of the capability's \`input\` record by name.
Passing a name the input does not declare is an error (the diagnostic suggests the closest field),
and so is leaving out a field that has no default and is not optional (\`T?\`).

The same rule applies to \`fallback\` and \`compensate\` calls and to \`run plan(args)\` against the
sub-plan's \`input\`.`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(txt: "hi")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §4 Plans and steps',
  },

  E0203: {
    severity: 'error',
    title: 'unit mismatch (duration / money / percent / number)',
    details: `Units never mix silently. Adding, subtracting or comparing a duration with money, a percent
or a plain number is an error, as is mixing currencies. Multiplying or dividing a duration or an
amount of money by a plain number is fine (\`2 * 30s\`, \`0.01usd * len(input.items)\`).

Typical cause: a guardrail or budget compares an estimate with a literal of the wrong unit, such
as \`plan.cost <= 5m\`.`,
    trigger: `${ECHO}
guardrail spend_cap {
  severity warning
  assert plan.cost <= 5m
}

plan hello {
  guardrails spend_cap

  step greet = echo(text: "hi")
}
`,
    fix: `${ECHO}
guardrail spend_cap {
  severity warning
  assert plan.cost <= 0.05usd
}

plan hello {
  guardrails spend_cap

  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §3 Types (units)',
  },

  E0301: {
    severity: 'error',
    title: 'dependency cycle',
    details: `The steps of a plan must form a directed acyclic graph. A step depends on every step whose
output it reads (\`a.output.x\`, \`a.status\`, …) and on every step named in \`after\`. When these
edges form a loop no step of the loop could ever start, so the plan is rejected; the message lists
the steps of the cycle in order.

Break the loop by removing one reference, usually the one that reads a later step's output, or by
splitting the work into two plans chained with a trigger (\`after plan completed\`).`,
    trigger: `${ECHO}
plan ping_pong {
  step ping = echo(text: pong.output.text)
  step pong = echo(text: ping.output.text)
}
`,
    fix: `${ECHO}
plan ping_pong {
  step ping = echo(text: "start")
  step pong = echo(text: ping.output.text)
}
`,
    reference: 'LANGUAGE.md §4 Plans and steps (dependencies)',
  },

  E0302: {
    severity: 'error',
    title: 'loop without a valid bound',
    details: `Orch has no unbounded loop: every \`repeat NAME … { … }\` block says how many iterations it may run
at most, with \`max N\` where N is a whole number from 1 to 1000. The block runs, then \`until\` is
evaluated over that iteration's steps; it runs again until the condition holds or \`max\` iterations
have run (then the loop fails, unless it has \`on_failure continue\`).

Add \`max N\` right after the loop's name. Estimates give the best case (one iteration) and the worst
(\`max\`), so choose the smallest bound that is enough.`,
    trigger: `${ECHO}
plan polish {
  repeat revise until draft.output.text == "done" {
    step draft = echo(text: "again")
  }
}
`,
    fix: `${ECHO}
plan polish {
  repeat revise max 3 until draft.output.text == "done" {
    step draft = echo(text: "again")
  }
}
`,
    reference: 'LANGUAGE.md §7.1 Control flow (bounded loops)',
  },

  E0303: {
    severity: 'error',
    title: 'race with fewer than two branches',
    details: `A \`race NAME { … }\` block runs its steps side by side; the first to complete wins and the others are
cancelled. With one step (or none) there is nothing to race. Add the competing step, or take the
step out of the block. A branch of several steps is written as a \`run\` of a sub-plan.`,
    trigger: `${ECHO}
plan ask {
  race reply {
    step answered = echo(text: "hi")
  }
}
`,
    fix: `${ECHO}
plan ask {
  race reply {
    step answered = echo(text: "hi")
    step reminder = wait 1d
  }
}
`,
    reference: 'LANGUAGE.md §7.1 Control flow (race)',
  },

  E0401: {
    severity: 'error',
    title: 'blocking guardrail violated at compile time',
    details: `A guardrail with \`severity blocking\` is violated by facts the compiler already knows:
where a step is placed, the data class it handles, the order of steps, or the plan's estimates.
The message names the guardrail and the step. Such a plan would be stopped at run time anyway, so
it is rejected up front.

Fix the plan rather than the guardrail: give the step a resource that satisfies the rule (for a
privacy rule, a local or edge resource and a \`privacy_first\` policy, or \`on RESOURCE\`), add the
missing step before the guarded one, or lower the step's data class if it really handles less.`,
    trigger: `capability summarize_diary {
  kind llm
  input { text: string }
  output { summary: string }
  data personal
  requires llm
  prompt "Summarize this diary entry: \${input.text}"
}

resource big_cloud {
  kind cloud_region
  provides llm
}

guardrail no_personal_data_in_cloud {
  severity blocking
  forbid step where step.data >= personal and step.placement == cloud_region
  message "Personal data must stay on local or edge resources"
}

plan diary {
  guardrails no_personal_data_in_cloud

  step summary = summarize_diary(text: "dear diary")
}
`,
    fix: `capability summarize_diary {
  kind llm
  input { text: string }
  output { summary: string }
  data personal
  requires llm
  prompt "Summarize this diary entry: \${input.text}"
}

resource big_cloud {
  kind cloud_region
  provides llm
}

resource home_box {
  kind local_device
  provides llm
}

guardrail no_personal_data_in_cloud {
  severity blocking
  forbid step where step.data >= personal and step.placement == cloud_region
  message "Personal data must stay on local or edge resources"
}

plan diary {
  guardrails no_personal_data_in_cloud

  step summary = summarize_diary(text: "dear diary") {
    on home_box
  }
}
`,
    reference: 'LANGUAGE.md §4 Declarations (guardrails), Plans and steps (guardrail semantics)',
  },

  W0402: {
    severity: 'warning',
    title: 'warning-severity guardrail violated at compile time',
    details: `Like E0401, but the guardrail has \`severity warning\`: the plan still compiles and runs,
and at run time the violation is recorded as a \`guardrail_violation\` journal event instead of
stopping the step. Use warnings for rules you want to see in CI without blocking deploys.

To silence it, make the plan satisfy the rule, or remove the guardrail from the plan's
\`guardrails\` list if it does not apply.`,
    trigger: `${ECHO}
guardrail small_plans {
  severity warning
  assert plan.steps <= 1
}

plan hello {
  guardrails small_plans

  step greet = echo(text: "hi")
  step again = echo(text: greet.output.text)
}
`,
    fix: `${ECHO}
guardrail small_plans {
  severity warning
  assert plan.steps <= 2
}

plan hello {
  guardrails small_plans

  step greet = echo(text: "hi")
  step again = echo(text: greet.output.text)
}
`,
    reference: 'LANGUAGE.md §4 Plans and steps (guardrail semantics)',
  },

  I0403: {
    severity: 'hint',
    title: 'advisory or info guardrail note',
    details: `A guardrail with \`severity advisory\` or \`severity info\` does not hold for this plan. It
never fails a check or a run; it is reported as a hint so reviewers can see it (editors show it
faintly). Advisory guardrails suit recommendations such as "prefer local execution".`,
    trigger: `${ECHO}
guardrail prefer_short_plans {
  severity advisory
  assert plan.steps <= 1
}

plan hello {
  guardrails prefer_short_plans

  step greet = echo(text: "hi")
  step again = echo(text: greet.output.text)
}
`,
    fix: `${ECHO}
guardrail prefer_short_plans {
  severity advisory
  assert plan.steps <= 2
}

plan hello {
  guardrails prefer_short_plans

  step greet = echo(text: "hi")
  step again = echo(text: greet.output.text)
}
`,
    reference: 'LANGUAGE.md §4 Declarations (guardrails)',
  },

  E0501: {
    severity: 'error',
    title: 'no resource can host a step',
    details: `Placement binds every step to a resource that provides all the tags its capability
\`requires\` (or to the resource named with \`on\`). When no declared resource provides every
required tag — or the pinned resource is not declared or lacks one of them — the step cannot run
anywhere; the message lists the declared resources and what they provide.

Declare a resource that \`provides\` the missing tag, drop the tag from \`requires\` if the
capability does not need it, or pin the step with \`on RESOURCE\` to one that fits (the message
says which tag to add to which resource). A module that declares no machine resource at all runs
its steps on the local host, whatever they require (std \`http_request\` requires \`http\`);
built-in steps (\`wait\`, \`wait until\`, \`run\`) and \`human\` steps need no resource.`,
    trigger: `capability upscale_video {
  kind tool
  input { url: string }
  output { url: string }
  requires gpu
}

resource laptop {
  kind local_device
  provides cpu
}

plan enhance {
  step upscale = upscale_video(url: "file:///movie.mp4")
}
`,
    fix: `capability upscale_video {
  kind tool
  input { url: string }
  output { url: string }
  requires gpu
}

resource laptop {
  kind local_device
  provides cpu
}

resource render_farm {
  kind edge_cluster
  provides gpu
}

plan enhance {
  step upscale = upscale_video(url: "file:///movie.mp4")
}
`,
    reference: 'LANGUAGE.md §4 Plans and steps (placement)',
  },

  W0502: {
    severity: 'warning',
    title: 'estimated cost or duration exceeds a policy budget',
    details: `The plan's estimate is above a \`budget\` of its policy. Estimated cost is the sum of step
costs plus the cost of the resources they are placed on; estimated duration is the critical path
of step latencies. Both are shown by \`orch preview\`.

The plan still compiles — estimates are estimates. \`orch verify\` checks the budget against the
simulated actuals (the built-in invariant "policy budget respected"), and a guardrail such as
\`assert run.cost <= 0.50usd\` enforces a limit on the actuals of a real run. Raise the budget,
choose cheaper or faster capabilities or resources, or a policy strategy (\`cost\`, \`latency\`)
that optimises for the budgeted metric.`,
    trigger: `capability translate {
  kind llm
  input { text: string }
  output { text: string }
  cost 0.05usd
  latency 2s
  prompt "Translate into German: \${input.text}"
}

policy frugal {
  strategy cost
  budget cost <= 0.01usd
}

plan localise {
  policy frugal

  step german = translate(text: "Good evening")
}
`,
    fix: `capability translate {
  kind llm
  input { text: string }
  output { text: string }
  cost 0.05usd
  latency 2s
  prompt "Translate into German: \${input.text}"
}

policy frugal {
  strategy cost
  budget cost <= 0.10usd
}

plan localise {
  policy frugal

  step german = translate(text: "Good evening")
}
`,
    reference: 'LANGUAGE.md §4 Declarations (policy budgets), Plans and steps (estimates)',
  },

  W0601: {
    severity: 'warning',
    title: 'unused declaration',
    details: `A declaration is never used: a capability no step calls, a policy or type nothing refers
to, a resource no step is placed on (as its binding or as a fallback), or a step whose output
nothing reads and whose capability only computes (kind \`llm\` or \`agent\`). Steps of kind
\`tool\`, \`service\` and \`human\` act on the world, so they are never reported, and neither are
\`wait\` and \`run\` steps. A module without plans that is imported (or declares \`module\`) is a
library: its declarations are exports and are not reported.

Delete the declaration (the quick fix does this), or use it.`,
    trigger: `${ECHO}
capability shout {
  kind tool
  input { text: string }
  output { text: string }
}

plan hello {
  step greet = echo(text: "hi")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §5 Diagnostics',
  },

  E0701: {
    severity: 'error',
    title: 'invalid trigger',
    details: `A trigger cannot fire correctly: its cron expression is invalid (five fields — minute, hour,
day of month, month, day of week — or six with seconds), its timezone is not an IANA name
(\`Europe/Paris\`), it runs a plan that does not exist, or its \`with { … }\` record does not match
the plan's \`input\` (an unknown field, a missing required field, or a wrong type).

Fix the expression or the input; \`orch preview\` lists the triggers, and \`orch serve\` prints the
next time each schedule fires when it starts.`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}

trigger every_morning {
  schedule "0 25 * * *" timezone "Europe/Paris"
  run hello
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}

trigger every_morning {
  schedule "0 7 * * *" timezone "Europe/Paris"
  run hello
}
`,
    reference: 'LANGUAGE.md §4 Triggers',
  },

  E0802: {
    severity: 'error',
    title: 'mcp server or tool not locked',
    details: `\`import mcp "NAME" as ALIAS\` names a server that orch.config's \`mcp\` does not define, or that
orch.lock.json does not list; or a call names a tool (\`ALIAS.TOOL\`) the lock file does not list;
or two tools of one server map to the same Orch name (\`get-sum\` and \`get_sum\`).

The compiler never starts a server: it reads the tools' schemas from orch.lock.json. Add the
server to orch.config.json's \`mcp\` (\`command\`/\`args\`/\`env\` for stdio, \`url\`/\`headers\` for
Streamable HTTP), then run \`orch mcp lock\` and commit the lock file.`,
    trigger: `import mcp "nowhere" as tools

${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}
`,
    reference: 'LANGUAGE.md §8.3 Agent tools over MCP',
  },

  E0801: {
    severity: 'error',
    title: 'invalid model capability',
    details: `A \`kind llm\` capability is answered either by the built-in model handler (it has a
\`prompt\`) or by your own code (it has a \`handler\`): it must have exactly one of the two. Its
\`prompt\` and \`system\` are sent to a model, so they may read only \`input\`, literals and pure
built-ins — never a step, the run, the context or a \`secret(…)\`. \`temperature\` is between 0 and
2, \`max_tokens\` a whole number ≥ 1. \`prompt\`, \`system\`, \`model\`, \`temperature\` and
\`max_tokens\` belong to \`kind llm\` capabilities only. A refinement (\`capability warm from
summarize { … }\`) is checked with what it inherits, as if written out. A call answered by the model
handler may not pass a \`secret(…)\` in any argument: its input is rendered into the prompt, and no
secret is ever sent to a model.`,
    trigger: `capability summarize {
  kind llm
  input { text: string }
  output { text: string }
  handler "./summarize.js"
  prompt "Summarize: \${input.text}"
}
`,
    fix: `capability summarize {
  kind llm
  input { text: string }
  output { text: string }
  prompt "Summarize: \${input.text}"
}
`,
    reference: 'LANGUAGE.md §8.1 Models as capabilities',
  },

  W0803: {
    severity: 'warning',
    title: 'not defined in the project config',
    details: `A name that only the project's config can define is missing from \`orch.config.json\`:
a resource's model \`endpoint\` (under \`endpoints\`), a capability's or resource's \`model\` with
no entry under \`prices\`, or a \`notify\`/\`email\` channel (under \`channels\`). The compiler
reads only \`orch.config.json\` (a JS config is code it never runs, so these checks stay silent
with one).

Without the endpoint or the channel the step fails when it runs (\`channel "x" is not
configured\`); without a price a model call costs the capability's \`cost\` estimate, and a
budget cannot reserve the call's worst case. A project with no \`channels\` at all keeps v0.2's
\`notify\` (the message goes to the run's log, \`delivered: false\`); \`email\` always needs a
channel (by default the one named "email").`,
    trigger: `plan digest {
  step send = email(to: ["ops@example.com"], subject: "Digest", text: "all good")
}
`,
    fix: `plan digest {
  step send = notify(channel: "ops", text: "all good")
}
`,
    reference: 'LANGUAGE.md §8.1 Models as capabilities, §8.4 Messages that arrive',
  },

  E0901: {
    severity: 'error',
    title: 'a test names something its plan does not have',
    details: `A \`test\` block names its plan, the capabilities it mocks, the approval steps it decides,
the signals it sets and the steps its \`expect\` lines read — all as the test's file sees them: a
plan imported \`as refunds\` is \`plan refunds.refund_flow\`, its capabilities \`refunds.charge\`.
One of them does not exist: an unknown plan, a step the plan does not have, a capability the plan
never calls (its steps, fallbacks, compensations and sub-plans count), a signal the context does
not declare, or a person the config's \`auth\` block does not list (without an \`auth\` block any
name is a person). \`approve\` and \`reject\` need an approval step, and a virtual time (\`at D\`)
counts from a moment of the run on, so it cannot be negative.

A captured test (its first line \`captured_from … ir_hash …\`) that names a step or capability its
plan no longer has is stale instead: W0907.`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}

test "greets" {
  plan hello
  mock echo returns { text: "hi" }
  expect greeet.completed
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}

test "greets" {
  plan hello
  mock echo returns { text: "hi" }
  expect greet.completed
}
`,
    reference: 'LANGUAGE.md §9.2 Tests of plans',
  },

  E0906: {
    severity: 'error',
    title: 'a step under test reaches the outside with no mock',
    details: `A test never lets a run reach a model, an MCP tool, a channel or the network: a step
whose capability is answered by the built-in model handler (\`kind llm\` with a \`prompt\`), an
MCP tool (\`alias.tool\`), \`notify\`, \`email\` or \`http_request\` — as its call, its fallback, its
compensation or a step of a sub-plan it runs — needs a \`mock\` of that capability in the test.
Every other capability without a mock runs its real handler.

The diagnostic is at the step and names the test; add \`mock CAPABILITY returns VALUE\` (with
\`where\` when different calls need different answers).`,
    trigger: `plan alert {
  step page = notify(channel: "#ops", text: "disk full")
}

test "pages the team" {
  plan alert
  expect page.completed
}
`,
    fix: `plan alert {
  step page = notify(channel: "#ops", text: "disk full")
}

test "pages the team" {
  plan alert
  mock notify returns { delivered: true, channel: "#ops" }
  expect page.completed
}
`,
    reference: 'LANGUAGE.md §9.2 Tests of plans',
  },

  W0907: {
    severity: 'warning',
    title: 'a stale captured test',
    details: `A test captured from a run (\`orch test --capture\`, first line \`captured_from "RUN"
ir_hash "HASH"\`) names a step or capability that its plan no longer has: the plan changed since
the capture. \`orch test\` fails a stale test rather than running it; recapture it from a fresh
run of the new plan under the same mocks with \`orch test --update FILE\`, or edit it by hand.

In a test that records no \`ir_hash\` such a name is an error, E0901.`,
    trigger: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}

test "greets" {
  captured_from "run-1" ir_hash "sha256:0b1c"
  plan hello
  mock echo returns { text: "hi" }
  expect wave.completed
}
`,
    fix: `${ECHO}
plan hello {
  step greet = echo(text: "hi")
}

test "greets" {
  captured_from "run-1" ir_hash "sha256:0b1c"
  plan hello
  mock echo returns { text: "hi" }
  expect greet.completed
}
`,
    reference: 'LANGUAGE.md §9.2 Tests of plans',
  },
};

/** Every code, in table order. */
export function allExplanations(): readonly Explanation[] {
  return (Object.keys(CATALOG) as DiagnosticCode[]).map((code) => ({ code, ...CATALOG[code] }));
}

/** Case-insensitive lookup; `undefined` for an unknown code. */
export function explanationFor(code: string): Explanation | undefined {
  const wanted = code.trim().toUpperCase();
  return allExplanations().find((e) => e.code === wanted);
}
