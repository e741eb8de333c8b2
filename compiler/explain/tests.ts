/**
 * `orch explain` for the codes of plan tests (LANGUAGE.md §9.2): E0901, E0906, W0907.
 */
import { ECHO, type Entries } from './entry.js';

export const TESTS = {
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
} satisfies Entries;
