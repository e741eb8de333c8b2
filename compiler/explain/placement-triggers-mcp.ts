/**
 * `orch explain` for the codes of placement and budgets (E0501, W0502), unused declarations (W0601), triggers (E0701), MCP imports and integrations (E08xx, W0803), and a step over its budget (E0908).
 */
import { ECHO, type Entries } from './entry.js';

export const PLACEMENT_TRIGGERS_MCP = {
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
of step latencies. Both are shown by \`orch preview\`. The cost verdict also takes the budget
ledger's worst case (v0.4 §9.1): the sum of every step's reservation per attempt (a priced model
call at its \`max_tokens\`), loops at their max; a \`for each\` over a list the file does not give
counts per item. One step whose reservation alone exceeds an enforced budget is E0908; against a
\`warn\` budget it is this warning.

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
  model "gpt-4o-mini"
  endpoint "openai"
}

policy frugal {
  strategy cost
  budget cost <= 0.08usd
}

plan localise {
  policy frugal

  step german = translate(text: "Good evening")
  step french = translate(text: "Good evening")
}
`,
    fix: `capability translate {
  kind llm
  input { text: string }
  output { text: string }
  cost 0.05usd
  latency 2s
  prompt "Translate into German: \${input.text}"
  model "gpt-4o-mini"
  endpoint "openai"
}

policy frugal {
  strategy cost
  budget cost <= 0.10usd
}

plan localise {
  policy frugal

  step german = translate(text: "Good evening")
  step french = translate(text: "Good evening")
}
`,
    reference: 'LANGUAGE.md §4 Declarations (policy budgets), Plans and steps (estimates), §9.1 (the ledger\'s worst case)',
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
secret is ever sent to a model. The endpoint a step's prompt goes to is decided here (v0.4 §9.1):
its resource's \`endpoint\`, else the capability's \`endpoint "NAME"\`; a step with neither is
E0801 (there is no "first endpoint of the config" default), and its tier is the higher of the
resource's and the endpoint's. So is its model: the resource's \`model\`, else the capability's; a
step with neither is E0801 too (every attempt would fail for want of one).`,
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
    reference: 'LANGUAGE.md §8.1 Models as capabilities, §9.1 Which model sees the data',
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
channel (by default the one named "email").

A key of an endpoint, channel or source that orch does not read (\`"baseurl"\` for
\`"base_url"\`) is W0803 too, at the key in the config: the runtime passes over it, so the entry
acts as if it were not written — a model call goes to the provider's default URL.`,
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
  E0908: {
    severity: 'error',
    title: 'one step reserves more than the whole budget',
    details: `Before each attempt the budget ledger reserves what the step may cost at worst: its
capability's \`cost\` plus its resource's, or for a priced model call the prompt and \`max_tokens\`
at the model's price (\`orch preview\` shows it as "reserves"). A step whose one reservation is
more than the policy's enforced \`budget cost\` is refused by the ledger in every run, before it
starts, whatever the other steps cost — so the plan is rejected up front (v0.4 §9.1). The same
holds for its \`fallback\` or \`compensate\` call, refused whenever it is needed. Raise the
budget, lower the step's \`max_tokens\` or cost, use a cheaper model, or mark the budget \`warn\`
(then it is W0502 and the run goes on over it).`,
    trigger: `capability translate {
  kind llm
  input { text: string }
  output { text: string }
  cost 0.05usd
  prompt "Translate into German: \${input.text}"
  model "gpt-4o-mini"
  endpoint "openai"
}

policy frugal {
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
  prompt "Translate into German: \${input.text}"
  model "gpt-4o-mini"
  endpoint "openai"
}

policy frugal {
  budget cost <= 0.10usd
}

plan localise {
  policy frugal

  step german = translate(text: "Good evening")
}
`,
    reference: 'LANGUAGE.md §9.1 A preview that the ledger agrees with, §8.2 budgets',
  },
} satisfies Entries;
