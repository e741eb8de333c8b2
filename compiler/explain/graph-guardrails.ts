/**
 * `orch explain` for the codes of the dependency graph and blocks (E03xx) and of guardrails (E0401, W0402).
 */
import { ECHO, type Entries } from './entry.js';

export const GRAPH_GUARDRAILS = {
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
(\`max\`), so choose the smallest bound that is enough. A loop with no step inside it is E0302 too:
there is nothing to repeat (to wait for a condition, write \`wait until\`).`,
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
step out of the block. A branch of several steps is written as a \`run\` of a sub-plan.

A branch that waits for another branch of its race (\`after\` it, or a read of its output, even
inside \`??\`) is E0303 too: the other branch completing ends the race and cancels it, so the two
never compete. For a step that runs when a call fails, use \`fallback\`, or a step after the race.`,
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
  endpoint "openai"
  model "gpt-4o-mini"
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
  endpoint "openai"
  model "gpt-4o-mini"
}

resource home_box {
  kind local_device
  provides llm
  endpoint "ollama"
  model "llama3.2"
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
} satisfies Entries;
