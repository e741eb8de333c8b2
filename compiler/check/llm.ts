/**
 * `kind llm` capabilities answered by a model (LANGUAGE.md §8.1): their `prompt` and `system`
 * (Orch strings that may read only `input`, literals and pure built-ins), `model`, `temperature`
 * and `max_tokens` → `CapabilityIR.llm`; E0801 for what the spec forbids; W0803 for a model or
 * endpoint the project's orch.config does not define. Everything is decided from files alone.
 */
import type { CapabilityCall, CapabilityDecl, Expr, ResourceDecl, StringLit } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { CapabilityIR, ExprIR, LlmIR } from '../ir/types.js';
import type { ModelBuilder } from '../model.js';
import { configKnown, configPrice, configSection, configUnreadable, projectConfigFor } from '../project-config.js';
import { endpointTierFor, TIERS } from '../endpoint-tiers.js';
import type { Ty } from '../types/ty.js';
import { checkExpr, type ExprEnv } from './expr.js';

/**
 * The model properties a capability has, its own or inherited from the capability it refines,
 * each already checked where it was written (`null`: a prompt or system that failed its check).
 */
export interface LlmProps {
  readonly prompt?: ExprIR | null;
  readonly system?: ExprIR | null;
  readonly model?: string;
  readonly endpoint?: string;
  readonly temperature?: number;
  readonly max_tokens?: number;
}

/** What a refinement inherits from its base besides the model properties. */
export interface LlmBase {
  readonly name: string;
  readonly kind: string;
  readonly hasHandler: boolean;
  readonly props: LlmProps;
}

/**
 * The `llm` part of a capability's IR (undefined when it is not a model-backed one) and its model
 * properties. A refinement (`capability warm from summarize { temperature 0.9 }`) passes its base:
 * each property it sets wins, the base's stays otherwise, and the merged capability is checked as
 * a declared one — a refinement that adds a handler to a prompted capability, or turns it into
 * another kind, is E0801 like the same declaration written out.
 */
export function llmIR(c: CapabilityDecl, input: Ty, file: string, model: ModelBuilder, diags: Diagnostic[], base?: LlmBase): { ir: LlmIR | undefined; props: LlmProps } {
  const e0801 = (message: string, range = c.name.range) => diags.push(diagnostic('E0801', message, file, range));
  const own = ([['prompt', c.prompt], ['system', c.system], ['model', c.model], ['endpoint', c.endpoint], ['temperature', c.temperature], ['max_tokens', c.maxTokens]] as const).filter(([, v]) => v !== undefined);
  const kind = c.capabilityKind ?? base?.kind ?? 'tool';
  const inherited = base?.props ?? {};
  const from = base ? ` (refining ${base.name})` : '';
  if (kind !== 'llm') {
    for (const [name, v] of own) e0801(`${name} is a property of kind llm capabilities; capability "${c.name.name}" is kind ${kind}`, v!.range);
    const kept = Object.keys(inherited);
    if (kept.length > 0 && c.capabilityKind !== undefined)
      e0801(`capability "${c.name.name}" is kind ${kind} but inherits ${kept.join(', ')} from ${base!.name}: those are properties of kind llm capabilities`);
    return { ir: undefined, props: {} };
  }
  // A value out of range is reported and left out of the IR (whose schema holds the same ranges).
  const temperature = c.temperature && c.temperature.value >= 0 && c.temperature.value <= 2 ? c.temperature : undefined;
  const maxTokens = c.maxTokens && Number.isInteger(c.maxTokens.value) && c.maxTokens.value >= 1 ? c.maxTokens : undefined;
  if (c.temperature && !temperature) e0801(`temperature must be between 0 and 2, not ${c.temperature.value}`, c.temperature.range);
  if (c.maxTokens && !maxTokens) e0801(`max_tokens must be a whole number ≥ 1, not ${c.maxTokens.value}`, c.maxTokens.range);
  if (c.model) warnUnpriced(plain(c.model), c.model, file, diags);
  if (c.endpoint) warnUndefinedEndpoint(plain(c.endpoint), c.endpoint, `capability "${c.name.name}"`, file, diags);
  const env: ExprEnv = { file, model, diags, roots: new Map([['input', { ty: input, ir: { op: 'var', name: 'input' } }]]) };
  const props: LlmProps = {
    ...inherited,
    ...(c.prompt ? { prompt: templateIR(c.prompt, 'prompt', env, e0801) } : {}),
    ...(c.system ? { system: templateIR(c.system, 'system', env, e0801) } : {}),
    ...(c.model ? { model: plain(c.model) } : {}),
    ...(c.endpoint ? { endpoint: plain(c.endpoint) } : {}),
    ...(temperature ? { temperature: temperature.value } : {}),
    ...(maxTokens ? { max_tokens: maxTokens.value } : {}),
  };
  const hasPrompt = props.prompt !== undefined;
  const hasHandler = c.handler !== undefined || (base?.hasHandler ?? false);
  // A refinement reports only what it brings about: its base's own mistakes are reported there.
  const decides = !base || c.prompt !== undefined || c.handler !== undefined || c.capabilityKind !== undefined;
  if (decides && hasPrompt && hasHandler)
    e0801(`capability "${c.name.name}"${from} has both a prompt and a handler: the prompt is answered by the built-in model handler, so remove one of them`, c.handler?.range ?? c.prompt?.range ?? c.name.range);
  if (decides && !hasPrompt && !hasHandler) e0801(`kind llm capability "${c.name.name}"${from} needs a prompt (answered by the configured model) or a handler`);
  if (!hasPrompt || hasHandler) return { ir: undefined, props };
  return {
    ir: {
      prompt: props.prompt ?? { op: 'lit', value: '' },
      system: props.system ?? null,
      model: props.model ?? null,
      temperature: props.temperature ?? null,
      max_tokens: props.max_tokens ?? null,
      endpoint: props.endpoint ?? null,
      ...(props.endpoint ? { endpoint_tier: endpointTierFor(props.endpoint, file) } : {}),
    },
    props,
  };
}

/**
 * E0801 for `secret(…)` in an argument (directly or anywhere inside its expression) of a call
 * answered by the built-in model handler: the arguments are rendered into the prompt, and no
 * secret is ever sent to a model. A `kind llm` capability with a handler may take one (the
 * handler is code, like any other). What the compiler cannot see (a secret value arriving in a
 * run input or a step output) the model handler refuses at run time (runtime/models).
 */
export function secretArgsToModel(cap: CapabilityIR, call: CapabilityCall, file: string, diags: Diagnostic[]): void {
  if (!cap.llm || cap.handler !== null) return;
  for (const arg of call.args) {
    let found = false;
    walkExpr(arg.value, (e) => {
      if (e.kind === 'CallExpr' && e.callee.name === 'secret') found = true;
    });
    if (found)
      diags.push(diagnostic('E0801', `argument "${arg.name.name}" of ${cap.name} reads a secret: a kind llm capability's input is sent to a model in its prompt, and no secret is ever sent to a model`, file, arg.value.range));
  }
}

/** W0803 for a resource's `endpoint` and `model` that the project's config does not define. */
export function checkModelResource(r: ResourceDecl, file: string, diags: Diagnostic[]): void {
  if (!r.endpoint && !r.model) return;
  const view = projectConfigFor(file);
  configUnreadable(view, diags, file);
  if (!configKnown(view)) return;
  if (r.endpoint) warnUndefinedEndpoint(plain(r.endpoint), r.endpoint, `resource "${r.name.name}"`, file, diags);
  if (r.model) warnUnpriced(plain(r.model), r.model, file, diags);
}

/** W0803 for an endpoint (of `owner`) the project's config does not define. */
function warnUndefinedEndpoint(name: string, at: StringLit, owner: string, file: string, diags: Diagnostic[]): void {
  const view = projectConfigFor(file);
  configUnreadable(view, diags, file);
  if (!configKnown(view)) return;
  const endpoints = configSection(view, 'endpoints');
  if (Object.prototype.hasOwnProperty.call(endpoints, name)) {
    const entry = endpoints[name];
    // What orch run refuses (runtime/models/config.ts) defines no endpoint: said here, not at the run.
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      diags.push(diagnostic('W0803', `endpoint "${name}" is not an object in orch.config "endpoints": orch run refuses the config`, file, at.range));
      return;
    }
    const { api, tier, base_url, api_key } = entry as { api?: unknown; tier?: unknown; base_url?: unknown; api_key?: unknown };
    // Not quoted: a URL written wrongly may hold a password anywhere in it.
    if (base_url !== undefined && (typeof base_url !== 'string' || !/^https?:\/\//.test(base_url)))
      diags.push(diagnostic('W0803', `endpoint "${name}" has a "base_url" that is not an http:// or https:// URL: orch run refuses the config`, file, at.range));
    if (api_key !== undefined && typeof api_key !== 'string')
      diags.push(diagnostic('W0803', `endpoint "${name}" has an "api_key" that is not a string (e.g. "secret:OPENAI_API_KEY"): orch run refuses the config`, file, at.range));
    if (api !== undefined && api !== 'openai' && api !== 'anthropic')
      diags.push(diagnostic('W0803', `endpoint "${name}" has "api": ${JSON.stringify(api)}, which is neither openai nor anthropic: orch run refuses the config`, file, at.range));
    if (tier !== undefined && !(typeof tier === 'string' && TIERS.has(tier)))
      diags.push(diagnostic('W0803', `endpoint "${name}" has "tier": ${JSON.stringify(tier)}, which is not local, edge or cloud: it counts as cloud here (orch run refuses the config)`, file, at.range));
    return;
  }
  const known = Object.keys(endpoints);
  diags.push(diagnostic('W0803', `endpoint "${name}" of ${owner} is not defined in ${view.kind === 'none' ? 'an orch.config.json (the project has none)' : 'orch.config "endpoints"'}${known.length ? ` (defined: ${known.join(', ')})` : ''}`, file, at.range));
}

function warnUnpriced(name: string, at: StringLit, file: string, diags: Diagnostic[]): void {
  const view = projectConfigFor(file);
  configUnreadable(view, diags, file);
  if (!configKnown(view)) return;
  const price = configPrice(view, name);
  if (price === 'malformed')
    diags.push(diagnostic('W0803', `model "${name}" has a price in orch.config "prices" that is not input_per_mtok and output_per_mtok as numbers ≥ 0: orch run refuses the config`, file, at.range));
  if (price !== undefined) return;
  diags.push(diagnostic('W0803', `model "${name}" has no price in orch.config "prices": its calls cost the capability's cost estimate, and budgets cannot reserve its worst case`, file, at.range));
}

/**
 * A prompt or system string as an expression over `input`: any other name (a step, `context`,
 * `run`, a plan's input), `now()` and `secret(…)` are E0801 — a prompt is sent to a model, so it must be
 * what the capability was given, never a credential.
 */
function templateIR(s: StringLit, what: string, env: ExprEnv, e0801: (m: string, r: StringLit['range']) => void): ExprIR | null {
  let bad = false;
  for (const p of s.parts) {
    if (typeof p === 'string') continue;
    walkExpr(p, (e) => {
      if (e.kind === 'NameExpr' && e.name !== 'input') {
        e0801(`a ${what} may read only input, literals and pure built-ins, not "${e.name}"`, e.range);
        bad = true;
      } else if (e.kind === 'CallExpr' && e.callee.name === 'now') {
        // Not pure: the same input would make another prompt at another time.
        e0801(`a ${what} may read only input, literals and pure built-ins, not now(): its value changes with time`, e.range);
        bad = true;
      } else if (e.kind === 'CallExpr' && e.callee.name === 'secret') {
        e0801(`a ${what} is sent to a model and may not read a secret`, e.range);
        bad = true;
      }
    });
  }
  if (bad) return null;
  return checkExpr(s, env).ir;
}

/** Every expression node under `e`, `e` included (any node with an expression `kind`). */
function walkExpr(e: Expr, visit: (e: Expr) => void): void {
  const stack: unknown[] = [e];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      stack.push(...(n as unknown[]));
      continue;
    }
    const o = n as { kind?: unknown; range?: unknown };
    if (typeof o.kind === 'string' && o.kind.endsWith('Expr')) visit(n as Expr);
    for (const [k, v] of Object.entries(o)) if (k !== 'range' && v && typeof v === 'object') stack.push(v);
  }
}

function plain(s: StringLit): string {
  return s.parts.filter((p): p is string => typeof p === 'string').join('');
}
