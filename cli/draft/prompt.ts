/**
 * The prompts of `orch draft` (LANGUAGE.md §8.5), pure: the system prompt shows the model the
 * language's rules in brief and everything in scope — each capability with its types and doc,
 * each resource, policy and guardrail as declared, and the import and name a plan at the draft's
 * path uses for it; the repair message sends the diagnostics of the previous answer back.
 * Nothing secret goes in: only `.orch` declarations (a `secret("X")` is a name, never a value).
 */
import type { ScopeEntry, ScopeKind } from '../project-scope.js';
import { referenceFrom } from '../project-scope.js';

/** The language in brief: what a model needs to write a plan that checks. */
export const LANGUAGE_BRIEF = `Orch plan language (.orch), in brief:
- A plan: plan NAME { goal "…"  input { field: type, … }  policy P  guardrails g1, g2  step … output { … } }
- A step calls a capability with named arguments: step s = cap(arg: expr, …). Every required input field must be given, no unknown argument (E0202); argument types must match (E0201).
- Data flows by reference: s.output.field makes the step depend on s. Also: after a, b (explicit order), when EXPR (condition), on RESOURCE (pin), fallback cap(…), compensate cap(…), timeout 30s, retry 2 — attributes go in a block after the call: step s = cap(…) { after a  timeout 30s }.
- Fan-out: for each x in input.items parallel 5 { step s = cap(v: x.field) }; outside, s.output is a list.
- Built-in step forms: wait 10m · wait until EXPR timeout 2h · run OTHER_PLAN(args). Std capabilities (no import): approval(approver, summary), notify(channel, text), http_request, transform, log.
- Types: string number int bool duration money percent any, "a" | "b" enums, list<T>, map<T>, records { a: T }, T?. Literals: 30s 5m 2h, 0.05usd, 80%, "text \${expr}".
- Expressions: and or not, == != < <= > >=, + - * / %, ??, in, member access, len contains lower upper min max sum round format. Units never mix (30s + 1usd is E0203).
- Names: a declaration of another project file is used through a file import with an alias (import "./caps.orch" as caps, then caps.NAME); std policies through import std.policies (policies.NAME); std guardrails through import std.guardrails { NAME }. Imports come first in the file, after an optional module line.
- Invariants (optional): invariant "name" { always a.started implies b.completed }.
- Only use capabilities, resources, policies and guardrails listed below; never invent one. No host-language code.`;

const HEADINGS: Record<ScopeKind, string> = {
  capability: 'Capabilities',
  resource: 'Resources',
  policy: 'Policies',
  guardrail: 'Guardrails',
  type: 'Types',
};

/** Everything in scope, as a plan written at `draftFile` refers to it. */
export function scopeText(entries: readonly ScopeEntry[], draftFile: string): string {
  const sections: string[] = [];
  for (const kind of ['capability', 'resource', 'policy', 'guardrail', 'type'] as const) {
    const of = entries.filter((e) => e.kind === kind);
    if (of.length === 0) continue;
    const items = of.map((e) => {
      const ref = referenceFrom(e, draftFile);
      const use = `use as ${ref.name}${ref.import ? ` after \`${ref.import}\`` : ''}`;
      const head = `- ${ref.name}: ${e.summary}${e.doc ? ` — ${e.doc}` : ''} (${e.std ? e.module : `declared in ${e.module}`}; ${use})`;
      // Capabilities show their signature; the others as written, which is short and says it all.
      return kind === 'capability' ? `${head}\n${indent(capabilityFacts(e.source))}` : `${head}\n${indent(e.source)}`;
    });
    sections.push(`${HEADINGS[kind]}:\n${items.join('\n')}`);
  }
  return sections.join('\n\n');
}

/** A capability's declaration without its handler line (the model needs the contract, not where the code lives). */
function capabilityFacts(source: string): string {
  return source
    .split('\n')
    .filter((l) => !/^\s*handler\s/.test(l))
    .join('\n');
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

export function systemPrompt(entries: readonly ScopeEntry[], draftFile: string, draftName: string): string {
  return [
    'You write plans in the Orch language. Answer with the complete contents of one .orch file in a single ```orch code block, and nothing that is not needed.',
    `The file will be saved as ${draftName}; it is checked by the Orch compiler, and every error is sent back to you to fix.`,
    '',
    LANGUAGE_BRIEF,
    '',
    'In scope (declared in the project and in std):',
    '',
    scopeText(entries, draftFile),
  ].join('\n');
}

export function intentMessage(intent: string): string {
  return `Write a plan that reaches this intent:\n\n${intent}\n\nUse only what is in scope. Answer with the whole file in one \`\`\`orch block.`;
}

/** The previous answer's diagnostics, as the compiler printed them, with the file they are about. */
/**
 * The next round's request. Each diagnostic names its file: `draftFile` is the plan the model
 * writes; `otherFiles` are files it imports that have errors of their own, which the model cannot
 * change (it can only stop depending on what they break).
 */
export function repairMessage(diagnosticsText: string, errors: number, draftFile: string, otherFiles: readonly string[] = []): string {
  const elsewhere = otherFiles.length
    ? [
        '',
        `Errors in ${otherFiles.join(', ')} are not in your plan (${draftFile}) but in ${otherFiles.length === 1 ? 'a file' : 'files'} it imports, which you cannot change: do not edit or repeat ${otherFiles.length === 1 ? 'that file' : 'those files'}; fix the errors in ${draftFile}, and if one of its capabilities cannot work, use another.`,
      ]
    : [];
  return [
    `The Orch compiler reports ${errors} error${errors === 1 ? '' : 's'} (each with its file:line:column; your plan is ${draftFile}):`,
    '',
    diagnosticsText,
    ...elsewhere,
    '',
    'Fix every error (codes: E0101 unresolved name, E0201 type mismatch, E0202 unknown or missing argument, E0203 unit mismatch, E0301 dependency cycle, E0401 guardrail violated, E0501 no resource can host a step).',
    'Answer with the whole corrected file in one ```orch block.',
  ].join('\n');
}
