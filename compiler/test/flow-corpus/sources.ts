/**
 * Where labels start (LANGUAGE.md §9.3). Integrity: the output of a `kind llm` step, of an MCP
 * tool, of `http_request`, of a capability declaring `trust untrusted`, plan input and context
 * fields marked `@untrusted`, and a step tainted by an untrusted argument without `endorses`.
 * Confidentiality: a value of class personal (sensitive where an edge tier is the sink) from plan
 * input, context, a capability's output field, a capability's `data`, an MCP tool refined with a
 * `data` class.
 *
 * A step source is read as `step ID = CALL` (the call can also stand in a fallback or a race, so
 * it is offered apart); input and context sources are read where they are declared.
 */
import { markSource } from './marks.js';
import { ORCH_TYPE, type Env, type FixId, type Label, type Read, type Ty } from './model.js';
import type { Block } from './program.js';

export interface StepCall {
  /** The step id the source's step gets (named in the witness). */
  readonly id: string;
  readonly text: string;
  /** Its output type without classes: a trusted stand-in with that output can take its place. */
  readonly shape: string;
  /** The member path of its output holding a value of `ty`. */
  readonly field: (ty: Ty) => string;
  /** What the witness must name besides `id` (a tainted step's own source). */
  readonly roots: readonly string[];
}

export interface Source {
  readonly id: string;
  readonly label: Label;
  readonly title: string;
  /** Where a read of it may stand: any block, a plan of the main file (context), the main plan (its input). */
  readonly scope: 'anywhere' | 'main-file' | 'main-plan';
  readonly call?: (env: Env, block: Block, ty: Ty) => StepCall;
  readonly read: (env: Env, block: Block, ty: Ty) => Read;
  readonly fixes: readonly FixId[];
}

const SHAPE = '{ text: string, items: list<string>, flag: bool }';
const FIELD: Record<Ty, string> = { text: 'text', list: 'items', flag: 'flag', record: 'text' };
const byField = (ty: Ty): string => FIELD[ty];

/** A source that is a step: its read declares the step where the read stands. */
function stepSource(def: Omit<Source, 'read' | 'scope'>): Source {
  return {
    ...def,
    scope: 'anywhere',
    read(env, block, ty) {
      const c = def.call!(env, block, ty);
      block.add(`step ${c.id} = ${markSource(c.text)}`);
      return { value: { expr: `${c.id}.output.${c.field(ty)}`, ty }, tokens: [c.id, ...c.roots] };
    },
  };
}

const fixed = (fix: FixId, env: Env): boolean => env.fix === fix;

const llm = stepSource({
  id: 'llm',
  label: 'integrity',
  title: 'kind llm output',
  fixes: [],
  call(env, block) {
    // Half the pairs ask a model through the built-in model handler (a prompt and an endpoint).
    const prompt = env.pick('llm-prompt', 2) === 1;
    env.p.laptop.provides.add('llm');
    if (prompt) {
      env.p.laptop.endpoint = 'on_device';
      env.p.endpoint('on_device', { api: 'openai', base_url: 'http://127.0.0.1:11434/v1' });
      (env.p.config.prices ??= {})['llama3.2'] = { input_per_mtok: 0, output_per_mtok: 0 };
    }
    const how = prompt ? 'prompt "Draft a reply to: ${input.q}"\nmodel "llama3.2"' : 'handler "./handlers.js#h"';
    const cap = block.plan.file.cap('ask_model', `kind llm\ninput { q: string }\noutput ${SHAPE}\n${how}\nrequires llm`);
    return { id: env.p.name('llm_draft'), text: `${cap}(q: "the customer's last message")`, shape: SHAPE, field: byField, roots: [] };
  },
});

const OUTPUT_SCHEMA = {
  type: 'object',
  properties: { text: { type: 'string' }, items: { type: 'array', items: { type: 'string' } }, flag: { type: 'boolean' } },
  required: ['text', 'items', 'flag'],
};

const mcp = stepSource({
  id: 'mcp',
  label: 'integrity',
  title: 'MCP tool output',
  fixes: ['source'],
  call(env, block) {
    env.p.mcpServer('crm', { command: 'node', args: ['crm-server.js'] }, [
      { name: 'lookup', inputSchema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] }, outputSchema: OUTPUT_SCHEMA },
    ]);
    const file = block.plan.file;
    file.imports.add('import mcp "crm" as crm');
    // The raw tool, or a refinement of it (which the twin of `source` marks `trust trusted`).
    let cap = 'crm.lookup';
    if (env.planned === 'source' || env.pick('mcp-refined', 2) === 1)
      cap = file.cap('crm_lookup from crm.lookup', `cost 0usd${fixed('source', env) ? '\ntrust trusted' : ''}\nrequires cpu`);
    return { id: env.p.name('mcp_lookup'), text: `${cap.replace(' from crm.lookup', '')}(q: "acme")`, shape: SHAPE, field: byField, roots: [] };
  },
});

const http = stepSource({
  id: 'http',
  label: 'integrity',
  title: 'http_request output',
  fixes: [],
  call(env) {
    return {
      id: env.p.name('http_page'),
      text: 'http_request(url: "https://status.example.com/today.json")',
      shape: '{ status: int, headers: map<string>, body: any }',
      field: (ty) => `body.${FIELD[ty]}`,
      roots: [],
    };
  },
});

const trustUntrusted = stepSource({
  id: 'trust',
  label: 'integrity',
  title: 'capability with trust untrusted',
  fixes: ['source'],
  call(env, block) {
    const trust = fixed('source', env) ? '' : '\ntrust untrusted';
    const cap = block.plan.file.cap('scrape_page', `kind tool\ninput { q: string }\noutput ${SHAPE}\nhandler "./handlers.js#h"${trust}\nrequires cpu`);
    return { id: env.p.name('scraped'), text: `${cap}(q: "pricing page")`, shape: SHAPE, field: byField, roots: [] };
  },
});

/** A plan input field of each type, declared on the main plan with the source's annotation. */
function inputSource(id: string, label: Label, title: string, prefix: string, annotation: (env: Env) => string): Source {
  return {
    id,
    label,
    title,
    scope: 'main-plan',
    fixes: ['source'],
    read(env, block, ty) {
      const name = `${prefix}_${ty}`;
      const note = fixed('source', env) ? '' : ` ${annotation(env)}`;
      env.main.input.set(name, markSource(`${name}: ${ORCH_TYPE[ty]}${note}`));
      return { value: { expr: `input.${name}`, ty }, tokens: [`input.${name}`] };
    },
  };
}

function contextSource(id: string, label: Label, title: string, names: Record<Ty, string>, annotation: (env: Env) => string): Source {
  return {
    id,
    label,
    title,
    scope: 'main-file',
    fixes: ['source'],
    read(env, block, ty) {
      const name = names[ty];
      const note = fixed('source', env) ? '' : ` ${annotation(env)}`;
      env.p.main.context.set(name, markSource(`${name}: ${ORCH_TYPE[ty]}${note}`));
      return { value: { expr: `context.${name}`, ty }, tokens: [`context.${name}`] };
    },
  };
}

const untrustedInput = inputSource('input', 'integrity', '@untrusted input field', 'u', () => '@untrusted');
const untrustedContext = contextSource('context', 'integrity', '@untrusted context field', { text: 'hint', list: 'tags', flag: 'urgent', record: 'hint' }, () => '@untrusted');

/** The roots a tainted step may read: every other integrity source (steps only outside the main plan). */
const ROOTS = [untrustedInput, llm, http, untrustedContext, mcp, trustUntrusted];

const tainted = stepSource({
  id: 'taint',
  label: 'integrity',
  title: 'step tainted by an untrusted argument (no endorses)',
  fixes: ['source'],
  call(env, block, ty) {
    const roots = ROOTS.filter((r) => r.scope === 'anywhere' || (r.scope === 'main-file' ? block.plan.file === env.p.main : block.plan === env.main));
    const root = roots[env.pick('taint-root', roots.length)]!.read(env, block, ty);
    const endorses = fixed('source', env) ? '\nendorses true' : '';
    const cap = block.plan.file.cap(`tidy_${ty}`, `kind tool\ninput { v: ${ORCH_TYPE[ty]} }\noutput { v: ${ORCH_TYPE[ty]} }\nhandler "./handlers.js#h"${endorses}\nrequires cpu`);
    return { id: env.p.name('relayed'), text: `${cap}(v: ${root.value.expr})`, shape: `{ v: ${ORCH_TYPE[ty]} }`, field: () => 'v', roots: root.tokens };
  },
});

// ───────────────────────────── confidentiality ─────────────────────────────

const classOf = (env: Env): string => `@${env.level}`;

const personalInput = inputSource('p_input', 'confidentiality', 'input field of a class', 'p', classOf);
const personalContext = contextSource('p_context', 'confidentiality', 'context field of a class', { text: 'contact', list: 'contacts', flag: 'at_home', record: 'contact' }, classOf);

const PROFILE_FIELD: Record<Ty, string> = { text: 'email', list: 'emails', flag: 'vip', record: 'email' };

const personalField = stepSource({
  id: 'p_field',
  label: 'confidentiality',
  title: 'capability output field of a class',
  fixes: ['source'],
  call(env, block) {
    const c = fixed('source', env) ? '' : ` ${classOf(env)}`;
    const cap = block.plan.file.cap('profile_of', `kind tool\ninput { id: string }\noutput { email: string${c}, emails: list<string>${c}, vip: bool${c} }\nhandler "./handlers.js#h"\nrequires cpu`);
    return { id: env.p.name('profile'), text: `${cap}(id: "c-42")`, shape: '{ email: string, emails: list<string>, vip: bool }', field: (ty) => PROFILE_FIELD[ty], roots: [] };
  },
});

const personalData = stepSource({
  id: 'p_data',
  label: 'confidentiality',
  title: 'capability data class',
  fixes: ['source'],
  call(env, block) {
    const data = fixed('source', env) ? '' : `\ndata ${env.level}`;
    const cap = block.plan.file.cap('customer_record', `kind tool\ninput { id: string }\noutput ${SHAPE}\nhandler "./handlers.js#h"${data}\nrequires cpu`);
    return { id: env.p.name('record'), text: `${cap}(id: "c-42")`, shape: SHAPE, field: byField, roots: [] };
  },
});

const personalMcp = stepSource({
  id: 'p_mcp',
  label: 'confidentiality',
  title: 'MCP tool refined with a data class',
  fixes: ['source'],
  call(env, block) {
    env.p.mcpServer('notes', { command: 'node', args: ['notes-server.js'] }, [
      { name: 'read_note', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }, outputSchema: OUTPUT_SCHEMA },
    ]);
    const file = block.plan.file;
    file.imports.add('import mcp "notes" as notes');
    const data = fixed('source', env) ? '' : `\ndata ${env.level}`;
    // The recipient twin moves the value to email.to, which needs trust: an MCP tool's output is
    // untrusted unless its refinement says otherwise, so in that pair (both plans) it does.
    const trust = env.planned === 'recipient' ? '\ntrust trusted' : '';
    file.cap('read_note from notes.read_note', `cost 0usd${data}${trust}\nrequires cpu`);
    return { id: env.p.name('note'), text: 'read_note(path: "today.md")', shape: SHAPE, field: byField, roots: [] };
  },
});

export const SOURCES: readonly Source[] = [
  llm,
  mcp,
  http,
  trustUntrusted,
  untrustedInput,
  untrustedContext,
  tainted,
  personalInput,
  personalContext,
  personalField,
  personalData,
  personalMcp,
];
