/**
 * One source's messages into the context store (LANGUAGE.md §9.4), the same for MQTT and webhook
 * messages: every mapping whose topic filter matches sets its signal from its value expression,
 * checked against the signal's declared type when the message arrives. A value of the wrong type,
 * an expression that cannot be evaluated or an unreadable sample time is refused through the
 * store (`context_rejected` with the reason), never stored. A retained message without a sample
 * time is of unknown age (`UNKNOWN_AGE`): stale until a fresh message comes, with no age to read.
 */
import { describeValueErrors, validateValue, type JsonSchema, type SourceIR } from '../../../compiler/index.js';
import { EvalError, evaluate } from '../../evaluate.js';
import secureJson from 'secure-json-parse';
import { UNKNOWN_AGE } from '../store.js';
import { MAX_OUTPUT_DEPTH, nestsDeeperThan } from '../../executor/json-output.js';

/**
 * The largest message a source takes, as `POST /signals`' default body limit: a device or broker
 * sending more is refused (journaled) before it is parsed.
 */
export const SOURCE_PAYLOAD_LIMIT = 1024 * 1024;

/** Where accepted values and refusals go: the context store, or `orch serve`'s engine around it. */
export interface ContextSink {
  set(name: string, value: unknown, meta: { readonly source: string; readonly at?: number }): unknown;
  reject(name: string, meta: { readonly source: string }, reason: string): unknown;
}

export interface SourceMessage {
  readonly topic: string;
  /** Already parsed (a webhook's JSON body), or the bytes as they came (MQTT). */
  readonly payload: unknown;
  readonly retained?: boolean;
}

/**
 * A message's bytes as `payload`: JSON when it parses — by secure-json-parse, the parser Fastify
 * gives `POST /signals`, refusing a `__proto__` key or a `constructor.prototype` anywhere — else
 * the text as it came.
 */
export function parsePayload(raw: Uint8Array | string): unknown {
  const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }) as unknown;
  } catch {
    // Not JSON (a plain-text payload), or JSON that poisons a prototype: only the second is refused.
    if (!isJson(text)) return text;
    throw new Error('the payload holds a "__proto__" key or a "constructor" with a "prototype"');
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether a string may name a topic: a filter's wildcards (`+`, `#`) and NUL never appear in one. */
export function isTopicName(topic: string): boolean {
  return !topic.includes('+') && !topic.includes('#') && !topic.includes('\0');
}

/** Whether an MQTT topic filter (`+` one level, `#` the rest) matches a topic name. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // A filter starting with a wildcard does not match a `$SYS`-style topic (MQTT 3.1.1 §4.7.2).
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** Topic names whose matching mappings are remembered; beyond it the memo starts over (wildcards can match endless names). */
const MATCH_MEMO = 10_000;

export class SourceIngest {
  private readonly schemas: { readonly [name: string]: JsonSchema };
  /** Topic name → the mappings whose filter matches it: a device publishes on the same topics over and over. */
  private readonly matching = new Map<string, SourceIR['topics']>();

  constructor(
    readonly name: string,
    private readonly source: SourceIR,
    private readonly store: ContextSink,
    /** The plans' `context` JSON Schema: each signal's declared type. */
    context: JsonSchema,
  ) {
    this.schemas = (context as { properties?: { [name: string]: JsonSchema } }).properties ?? {};
  }

  /** The filters to subscribe to (each once). */
  filters(): string[] {
    return [...new Set(this.source.topics.map((t) => t.topic))];
  }

  private mappings(topic: string): SourceIR['topics'] {
    let found = this.matching.get(topic);
    if (!found) {
      if (this.matching.size >= MATCH_MEMO) this.matching.clear();
      found = this.source.topics.filter((t) => topicMatches(t.topic, topic));
      this.matching.set(topic, found);
    }
    return found;
  }

  /** Applies one message; how many values of the right type it handed to the sink. */
  accept(m: SourceMessage): number {
    // A topic *name* never holds a wildcard (MQTT 3.1.1 §4.7.1): a webhook's "home/+/motion" names no device.
    if (!isTopicName(m.topic)) return 0;
    const mappings = this.mappings(m.topic);
    if (mappings.length === 0) return 0;
    let payload: unknown;
    try {
      if (m.payload instanceof Uint8Array && m.payload.byteLength > SOURCE_PAYLOAD_LIMIT)
        throw new Error(`the payload is larger than ${SOURCE_PAYLOAD_LIMIT} bytes (${m.payload.byteLength})`);
      payload = m.payload instanceof Uint8Array ? parsePayload(m.payload) : m.payload;
      if (nestsDeeperThan(payload, MAX_OUTPUT_DEPTH)) throw new Error(`the payload nests more than ${MAX_OUTPUT_DEPTH} levels deep`);
    } catch (e) {
      // Named by its topic as every refusal of a message is: which device sent the unusable one.
      for (const t of mappings) this.store.reject(t.signal, { source: this.name }, `topic "${m.topic}": ${(e as Error).message}`);
      return 0;
    }
    let set = 0;
    const env = { vars: { payload, topic: m.topic } };
    for (const t of mappings) {
      const refuse = (reason: string) => this.store.reject(t.signal, { source: this.name }, `topic "${m.topic}": ${reason}`);
      let value: unknown;
      let at: number | undefined;
      try {
        value = evaluate(t.from, env);
        if (t.at) at = sampleTime(evaluate(t.at, env));
      } catch (e) {
        refuse(e instanceof EvalError || e instanceof SampleTimeError ? e.message : String(e));
        continue;
      }
      const schema = this.schemas[t.signal];
      const r = schema ? validateValue(schema, value) : { ok: true as const };
      if (!r.ok) {
        refuse(`the value does not match the signal's type: ${describeValueErrors(r.errors)}`);
        continue;
      }
      if (at === undefined && m.retained) at = UNKNOWN_AGE;
      this.store.set(t.signal, value, { source: this.name, ...(at !== undefined ? { at } : {}) });
      set++;
    }
    return set;
  }
}

class SampleTimeError extends Error {}

/** `at`: epoch milliseconds, or an ISO time. */
function sampleTime(v: unknown): number {
  const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(ms)) throw new SampleTimeError(`the sample time is not epoch milliseconds or an ISO time: ${JSON.stringify(v) ?? String(v)}`);
  return ms;
}
