/**
 * `orch explain` for the codes of syntax (E0001), names and modules (E01xx), types and units (E02xx).
 */
import { ECHO, type Entries } from './entry.js';

export const SYNTAX_NAMES_TYPES = {
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
block (\`timeout 5s\` … \`timeout 10s\`). A repeated name in a repeatable item is one too: two
\`success\` criteria of one label, two \`rate_limit\`s of one capability in a policy, a guardrail
listed twice in a plan's \`guardrails\`.

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

  W0105: {
    severity: 'warning',
    title: "a handler module's folder does not exist",
    details: `A capability's \`handler "./handler/x.mjs#fn"\` names a module in a folder that is not there
(relative to the .orch file) while a folder beside it has a close name — \`./handlers/\`. The
warning offers that folder as a did-you-mean and a quick fix (the example assumes a project with a
\`handlers/\` folder).

A warning, not E0104, and only with a close neighbour: a folder with no such neighbour is not
judged, as handlers built into a folder after the check (\`dist/\`) are legitimate. At run time a handler that cannot be loaded fails its
step at once, without retries.`,
    trigger: `capability echo {
  kind tool
  input { text: string }
  output { text: string }
  handler "./handler/echo.mjs#echo"
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
} satisfies Entries;
