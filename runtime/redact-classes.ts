/**
 * Values of data class `secret` as they are shown (LANGUAGE.md §3, docs/language.md "Secret class
 * values are never shown"). The journal keeps them as they are — a resume needs them, and `orch
 * runs export` is a backup — so every edge that shows a run (`orch timeline`, `orch run --json`,
 * `orch serve`'s run routes and stream, the dashboard, the MCP server) shows the copy made here.
 *
 * Two passes, both pure:
 * - by schema: a value whose declared class (`x-orch-data`) is `secret` — an input field, a
 *   capability's output field, a context signal, a plan output field bound to one — is replaced
 *   whole by `***` (`null` stays `null`: it says only that there is none);
 * - by value: the string leaves found that way are then blanked wherever else they occur
 *   (a step that echoes an input token, an error that quotes it), as `Redactor` does for
 *   `secret("NAME")` values.
 */
import { exprChildren, type ExprIR, type JsonSchema, type PlanIR } from '../compiler/index.js';
import { REDACTION_MARK, Redactor } from './redact.js';
import { baseId } from './scheduler/core/state.js';
import { mapEventData } from './scheduler/journal-events.js';
import type { ExecutionResult, RunEvent, RunReader } from './scheduler/types.js';

type Schema = JsonSchema | undefined;

const SECRET: JsonSchema = { 'x-orch-data': 'secret' };
const SECRET_ONLY: ReadonlySet<string> = new Set(['secret']);
/**
 * What a trace may not carry (docs/language.md "Traces"): an OTLP collector has no tier, so an
 * error text in a span has every value of class `personal` and above blanked, not only secrets.
 */
export const TRACE_HIDDEN: ReadonlySet<string> = new Set(['personal', 'sensitive', 'secret']);

/**
 * `value` with each part whose schema declares a class in `classes` replaced by `f(part, class, its schema)`;
 * the rest is walked by the schema (record fields, map values, list items, an optional's value).
 * Also what `orch test --capture` scrubs personal values with.
 */
export function mapClassed(value: unknown, schema: Schema, classes: ReadonlySet<string>, f: (value: unknown, cls: string, schema: Schema) => unknown): unknown {
  const s = branch(schema, value);
  const cls = s?.['x-orch-data'];
  if (typeof cls === 'string' && classes.has(cls)) return f(value, cls, s);
  if (s === undefined) return value;
  if (Array.isArray(value)) return value.map((v) => mapClassed(v, itemsOf(s), classes, f));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapClassed(v, propertyOf(s, k), classes, f)]));
  return value;
}

/** A run's shown copies: built once per run from its IR (null: unknown, only value redaction) and what it has recorded. */
export class SecretView {
  private readonly found: Redactor;
  /**
   * Nothing to hide: the plan (and its sub-plans) declares no value of class `secret`, and a parent
   * found none to pass on. Every call then hands its argument back untouched — a 100k-step run's
   * result is not walked for nothing.
   */
  readonly inert: boolean;
  private stepsById: Map<string, PlanIR['steps'][number]> | null = null;
  private readonly subViews = new Map<string, SecretView>();
  /** The classes this view blanks: `secret` for what runs show, `TRACE_HIDDEN` for spans. */
  private readonly classes: ReadonlySet<string>;

  /**
   * `events` and `input` are read for the secret values they hold, so that copies elsewhere are
   * blanked too; `parent`: a sub-plan run's view shares its parent's (its input came from there,
   * and so do the classes it blanks); `classes`: which classes are blanked (`secret` by default).
   */
  constructor(
    private readonly plan: PlanIR | null,
    events: readonly RunEvent[] = [],
    input?: unknown,
    parent?: SecretView,
    classes: ReadonlySet<string> = SECRET_ONLY,
  ) {
    this.found = parent?.found ?? new Redactor();
    this.classes = parent?.classes ?? classes;
    this.inert = plan !== null && !declaresClassDeep(plan, this.classes) && (parent === undefined || parent.inert);
    if (this.inert) return;
    if (input !== undefined) this.classed(input, plan?.input);
    for (const e of events) this.byClass(e);
  }

  /** The event as shown. */
  event(e: RunEvent): RunEvent {
    if (this.inert) return e;
    return mapEventData(this.byClass(e), (d) => this.found.value(d));
  }

  events(es: readonly RunEvent[]): RunEvent[] {
    if (this.inert) return [...es];
    return es.map((e) => this.event(e));
  }

  /** A run's result (`orch run --json`, `GET /runs/ID`) as shown. */
  result<R extends Pick<ExecutionResult, 'steps' | 'output' | 'error'>>(r: R): R {
    if (this.inert) return r;
    const steps = r.steps.map((s) => ({ ...s, output: this.classed(s.output, this.stepOutput(s.stepId)) }));
    const output = this.classed(r.output, this.plan ? this.outputSchema() : undefined);
    return this.found.value({ ...r, steps, output });
  }

  /** Reads an event for the secret values it holds (their copies are then blanked by `text`). */
  see(e: RunEvent): void {
    if (!this.inert) this.byClass(e);
  }

  /** Reads a run's context for the secret values it holds (their copies are then blanked). */
  seeContext(context: unknown): void {
    if (!this.inert) this.classed(context, this.plan?.context);
  }

  /** A text with every secret value seen so far blanked. */
  text(s: string): string {
    return this.inert ? s : this.found.text(s);
  }

  /** A run's input as shown. */
  input(v: unknown): unknown {
    if (this.inert) return v;
    return this.found.value(this.classed(v, this.plan?.input));
  }

  /** The event with its classed values replaced (and their strings remembered). */
  private byClass(e: RunEvent): RunEvent {
    const plan = this.plan;
    if (!plan) return e;
    switch (e.type) {
      case 'plan_created':
        return { ...e, data: { ...e.data, input: this.classed(e.data.input, plan.input), context: this.classed(e.data.context, plan.context) as typeof e.data.context } };
      case 'context_updated':
        return { ...e, data: { ...e.data, patch: this.classed(e.data.patch, plan.context) as typeof e.data.patch } };
      case 'step_completed':
        return { ...e, data: { ...e.data, output: this.classed(e.data.output, this.stepOutput(e.stepId)) } };
      case 'step_adopted':
        return { ...e, data: { ...e.data, output: this.classed(e.data.output, this.stepOutput(e.stepId)) } };
      case 'execution_completed':
        return { ...e, data: { ...e.data, output: this.classed(e.data.output, this.outputSchema()) } };
      default:
        return e;
    }
  }

  private classed(value: unknown, schema: Schema): unknown {
    return mapClassed(value, schema, this.classes, (v) => {
      if (v === null || v === undefined) return v;
      collect(v, this.found);
      return REDACTION_MARK;
    });
  }

  /** A step instance's output schema: its capability's, or its sub-plan's output (a whole `for each` step's: a list of them). */
  private stepOutput(key: string | null): Schema {
    if (!key || !this.plan) return undefined;
    // A map, not a search per step: a result of n steps would cost n² (minutes at 100k steps).
    this.stepsById ??= new Map(this.plan.steps.map((s) => [s.id, s]));
    const step = this.stepsById.get(baseId(key));
    if (!step) return undefined;
    const sub = step.action.type === 'run' ? this.plan.subplans[step.action.plan] : undefined;
    const output = sub ? this.subView(step.action.type === 'run' ? step.action.plan : '', sub).outputSchema() : step.capability ? this.plan.capabilities[step.capability]?.output : undefined;
    if (!output) return undefined;
    return step.for_each && key === step.id ? { type: 'array', items: output } : output;
  }

  private subView(name: string, sub: PlanIR): SecretView {
    let v = this.subViews.get(name);
    if (!v) this.subViews.set(name, (v = new SecretView(sub, [], undefined, undefined, this.classes)));
    return v;
  }

  private outputCache: Schema | null = null;
  /** The plan output's schema, as far as its expression says (fields bound to classed values). */
  private outputSchema(): Schema {
    if (this.outputCache === null) this.outputCache = this.plan?.output ? this.exprSchema(this.plan.output) : undefined;
    return this.outputCache;
  }

  /** The schema an expression's value has where it can be known; a value built from a secret one is secret. */
  private exprSchema(x: ExprIR): Schema {
    const plan = this.plan!;
    switch (x.op) {
      case 'var':
        return x.name === 'input' ? plan.input : x.name === 'context' ? plan.context : undefined;
      case 'step':
        return { type: 'object', properties: { output: this.stepOutput(x.id) ?? {} } };
      case 'get':
        return propertyOf(branch(this.exprSchema(x.object), {}), x.key);
      case 'index':
        return itemsOf(branch(this.exprSchema(x.object), []));
      case 'record':
        return { type: 'object', properties: Object.fromEntries(x.fields.map((f) => [f.key, this.exprSchema(f.value) ?? {}])) };
      case 'secret':
        return SECRET;
      case 'lit':
      case 'item':
      case 'block':
      case 'previous':
        return undefined;
      case 'list': {
        const hidden = this.hiddenOf(x.items);
        return hidden ? { type: 'array', items: hidden } : undefined;
      }
      default:
        // Text, arithmetic, calls and `??` over a secret value give a secret value.
        return this.hiddenOf(exprChildren(x));
    }
  }

  /** The schema of a value built from `parts`: the class of the first of them this view blanks, if any. */
  private hiddenOf(parts: readonly ExprIR[]): Schema {
    for (const p of parts) {
      const cls = this.exprSchema(p)?.['x-orch-data'];
      if (typeof cls === 'string' && this.classes.has(cls)) return { 'x-orch-data': cls };
    }
    return undefined;
  }
}

function isSecret(s: Schema): boolean {
  return s?.['x-orch-data'] === 'secret';
}

/** Every string leaf of a secret value, for blanking its copies elsewhere. */
function collect(v: unknown, into: Redactor): void {
  if (typeof v === 'string') into.add(v);
  else if (Array.isArray(v)) for (const x of v) collect(x, into);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) collect(x, into);
}

/** An optional's (`anyOf [T, null]`) schema for a value that is there; the schema itself otherwise. */
function branch(schema: Schema, value: unknown): Schema {
  const any = schema?.anyOf ?? schema?.oneOf;
  if (!Array.isArray(any)) return schema;
  if (value === null) return schema;
  const inner = (any as JsonSchema[]).find((b) => b.type !== 'null');
  return inner ? { ...inner, ...('x-orch-data' in schema! ? { 'x-orch-data': schema!['x-orch-data'] } : {}) } : schema;
}

function itemsOf(schema: Schema): Schema {
  const items = schema?.items;
  return items && typeof items === 'object' && !Array.isArray(items) ? (items as JsonSchema) : undefined;
}

function propertyOf(schema: Schema, key: string): Schema {
  const props = schema?.properties as { [k: string]: JsonSchema } | undefined;
  if (props && Object.hasOwn(props, key)) return props[key];
  const rest = schema?.additionalProperties;
  return rest && typeof rest === 'object' ? (rest as JsonSchema) : undefined;
}

/**
 * A live run's view, from its IR and its input (inert, so free, when its plan declares no value of
 * `classes`: `secret` for what is shown of a run, `TRACE_HIDDEN` for its spans).
 */
export function runView(run: Pick<RunReader, 'plan' | 'input'> & Partial<Pick<RunReader, 'context'>>, classes: ReadonlySet<string> = SECRET_ONLY): SecretView {
  // The input is read only where there is something to find in it (observers in tests are handed
  // readers of partial runs).
  const bare = new SecretView(run.plan, [], undefined, undefined, classes);
  if (bare.inert) return bare;
  const view = new SecretView(run.plan, [], run.input(), undefined, classes);
  // Its context too: a secret signal's value echoed by a step is a copy (`orch timeline`, reading
  // `plan_created`, blanks it; so must the result).
  if (run.context) view.seeContext(run.context());
  return view;
}

/** A run's result as shown, from the run that produced it (its IR and its input). */
export function shownResult<R extends Pick<ExecutionResult, 'steps' | 'output' | 'error'>>(run: Pick<RunReader, 'plan' | 'input'> & Partial<Pick<RunReader, 'context'>>, result: R): R {
  return runView(run).result(result);
}

/** The context signals a plan (or a served module) declares of class `secret` (`orch serve`'s one context is theirs). */
export function secretSignals(plans: readonly Pick<PlanIR, 'context'>[]): ReadonlySet<string> {
  const out = new Set<string>();
  for (const p of plans)
    for (const [name, s] of Object.entries((p.context.properties ?? {}) as { [name: string]: JsonSchema }))
      if (isSecret(branch(s, '')) || isSecret(s)) out.add(name);
  return out;
}

/** A context signal's value as shown: `***` for a secret one that has a value. */
export function shownSignal(secrets: ReadonlySet<string>, name: string, value: unknown): unknown {
  return secrets.has(name) && value !== null && value !== undefined ? REDACTION_MARK : value;
}

/** `declaresSecret` of the plan or of any sub-plan it runs. */
function declaresClassDeep(plan: PlanIR, classes: ReadonlySet<string>): boolean {
  return declaresClass(plan, classes) || Object.values(plan.subplans ?? {}).some((sub) => declaresClassDeep(sub, classes));
}

/** Whether a plan declares a value of one of `classes` anywhere a run's data comes from (its input, context, capability outputs). */
function declaresClass(plan: PlanIR, classes: ReadonlySet<string>): boolean {
  // `?? {}`: observers are also handed readers of partial plans (progress views in tests).
  const text = JSON.stringify([plan.input, plan.context, Object.values(plan.capabilities ?? {}).map((c) => c.output)]);
  return [...classes].some((cls) => text.includes(`"x-orch-data":"${cls}"`));
}
