/**
 * A gullible model for the scripted Chat Completions server (test/support/model-server.ts): it
 * obeys every instruction it reads, wherever it reads it — the plan's task or the attacker's text
 * — and the last one read wins, as an injected "ignore all previous instructions" does. An
 * instruction is a line `SET field := value` (a JSON value, else the text as is); the value
 * `everything you read` is the whole prompt (how an attacker makes a model leak what it was given).
 * Fields nobody set get a plain answer of their schema's type.
 */
import type { RecordedRequest, ScriptedReply } from '../../../test/support/model-server.js';

const SET = /SET (\w+) := (.*)$/gm;
const EVERYTHING = 'everything you read';

interface Schema {
  readonly type?: string | readonly string[];
  readonly properties?: { readonly [k: string]: Schema };
  readonly anyOf?: readonly Schema[];
}

export function gullible(req: RecordedRequest): ScriptedReply {
  const messages = (req.body.messages ?? []) as { content?: unknown }[];
  // A value of type any is interpolated as JSON: the model reads through the quoting, as a model would.
  const prompt = messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n').replace(/\\n/g, '\n').replace(/\\"/g, '"');
  const format = req.body.response_format as { json_schema?: { schema?: Schema } } | undefined;
  const props = format?.json_schema?.schema?.properties ?? {};
  const told = new Map<string, unknown>();
  for (const m of prompt.matchAll(SET)) told.set(m[1]!, m[2]!.trim() === EVERYTHING ? EVERYTHING : parse(m[2]!.trim()));
  const answer: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(props)) {
    const said = told.get(name);
    answer[name] = said === EVERYTHING ? everything(prompt, schema) : said !== undefined ? said : plain(schema);
  }
  return { answer, input_tokens: 50, output_tokens: 20 };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function types(s: Schema): readonly string[] {
  if (s.anyOf) return s.anyOf.flatMap(types);
  return s.type === undefined ? [] : typeof s.type === 'string' ? [s.type] : s.type;
}

function everything(prompt: string, s: Schema): unknown {
  return types(s).includes('array') ? [prompt] : prompt;
}

function plain(s: Schema): unknown {
  const t = types(s);
  if (t.includes('null')) return null;
  if (t.includes('string')) return 'ok';
  if (t.includes('boolean')) return false;
  if (t.includes('number') || t.includes('integer')) return 1;
  if (t.includes('array')) return [];
  return null;
}
