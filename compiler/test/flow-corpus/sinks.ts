/**
 * Where a label matters (LANGUAGE.md §9.3). Integrity (E0902): a `@trusted` parameter, a
 * parameter of a destructive capability (one of ours or an MCP tool with `destructiveHint`),
 * `email.to`, `email.channel`, `notify.channel`, the `when` of a destructive step.
 * Confidentiality (E0903): a cloud or edge resource, a cloud or edge model endpoint, a capability
 * declaring a lower `data` class, an external channel (email, Slack, webhook), an MCP tool.
 *
 * Each sink renders itself as a step and, but for the `when`, as a call (for a fallback or a
 * compensation); the marked span is what a finding must stand in: the argument, or the `when`.
 */
import { markSink } from './marks.js';
import { CONSTANT, guard, Inapplicable, ORCH_TYPE, type Env, type FixId, type Label, type Ty, type Value } from './model.js';
import type { Block } from './program.js';

export interface Sink {
  readonly id: string;
  readonly label: Label;
  readonly title: string;
  /** The type it takes; a `flexible` sink (a capability of the corpus) takes text, a list or a record. */
  readonly need: Ty;
  readonly flexible: boolean;
  /** The class a confidentiality source must carry to break this sink (edge tiers take personal). */
  readonly level?: (env: Env) => 'personal' | 'sensitive';
  readonly step: (env: Env, block: Block, value: Value, attrs?: readonly string[]) => void;
  readonly call?: (env: Env, block: Block, value: Value) => string;
  /** The same capability with values no rule minds: the primary a fallback stands behind. */
  readonly safe?: (env: Env, block: Block, ty: Ty) => string;
  readonly fixes: readonly FixId[];
}

const H = 'handler "./handlers.js#h"';

/** `step ID = CALL [when …] [{ attrs }]`. */
export function stepText(id: string, call: string, attrs: readonly string[] = [], when = ''): string {
  const block = attrs.length ? ` {\n${attrs.map((a) => `  ${a}`).join('\n')}\n}` : '';
  return `step ${id} = ${call}${when ? ` ${when}` : ''}${block}`;
}

/** A sink that is an argument of a call: its step form is `step NAME = CALL`. */
function callSink(def: Omit<Sink, 'step'> & { readonly stepName: string }): Sink {
  return {
    ...def,
    step(env, block, value, attrs = []) {
      const call = def.call!(env, block, value);
      block.add(stepText(env.p.name(def.stepName), call, attrs));
    },
  };
}

/** The argument `name: V`, marked; or V to `other` with `constant` in its place for `other-argument`. */
function argument(env: Env, name: string, v: Value, other?: string, constant = CONSTANT[v.ty]): string {
  if (env.fix !== 'other-argument') return markSink(`${name}: ${v.expr}`);
  if (!other || v.ty !== 'text') throw new Inapplicable(`no other parameter takes a ${v.ty}`);
  return `${name}: ${constant}, ${other}: ${v.expr}`;
}

// ───────────────────────────── integrity ─────────────────────────────

const trustedParam = callSink({
  id: 'trusted_param',
  label: 'integrity',
  title: '@trusted parameter',
  need: 'text',
  flexible: true,
  fixes: ['other-argument'],
  stepName: 'published',
  call(env, block, value) {
    const v = guard(env, block, value);
    const cap = publishCap(block, v.ty);
    const body = env.fix === 'other-argument' ? '' : ', body: "weekly note"';
    return `${cap}(${argument(env, 'dest', v, 'body')}${body})`;
  },
  safe: (env, block, ty) => `${publishCap(block, ty)}(dest: ${CONSTANT[ty]}, body: "weekly note")`,
});

function publishCap(block: Block, ty: Ty): string {
  return block.plan.file.cap(`publish_${ty}`, `kind tool\ninput { dest: ${ORCH_TYPE[ty]} @trusted, body: string }\noutput { ok: bool }\n${H}\nrequires cpu`);
}

const PURGE = {
  name: 'purge',
  inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
  outputSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  annotations: { destructiveHint: true },
};

/** The destructive capability: ours (`target`, and `reason` marked @untrusted), or an MCP tool's `id`; `v` null: constants. */
function destructiveCall(env: Env, block: Block, ty: Ty, v: Value | null): string {
  const mcp = ty === 'text' && env.planned !== 'other-argument' && env.pick('destructive-mcp', 2) === 1;
  if (mcp) {
    env.p.mcpServer('crm', { command: 'node', args: ['crm-server.js'] }, [PURGE]);
    const file = block.plan.file;
    file.imports.add('import mcp "crm" as crm');
    let cap = 'crm.purge';
    if (env.planned === 'untrusted-param' || env.pick('purge-refined', 2) === 1) {
      const input = env.fix === 'untrusted-param' ? 'input { id: string @untrusted }\n' : '';
      file.cap('purge_record from crm.purge', `${input}cost 0usd\nrequires cpu`);
      cap = 'purge_record';
    }
    return `${cap}(${v ? markSink(`id: ${v.expr}`) : 'id: "rec-1"'})`;
  }
  const note = env.fix === 'untrusted-param' ? ' @untrusted' : '';
  const cap = block.plan.file.cap(`wipe_files_${ty}`, `kind tool\ninput { target: ${ORCH_TYPE[ty]}${note}, reason: string @untrusted }\noutput { done: bool }\n${H}\ndestructive true\nrequires cpu`);
  if (!v) return `${cap}(target: ${CONSTANT[ty]}, reason: "nightly cleanup")`;
  const reason = env.fix === 'other-argument' ? '' : ', reason: "nightly cleanup"';
  return `${cap}(${argument(env, 'target', v, 'reason')}${reason})`;
}

const destructive = callSink({
  id: 'destructive',
  label: 'integrity',
  title: 'destructive capability parameter',
  need: 'text',
  flexible: true,
  fixes: ['untrusted-param', 'other-argument'],
  stepName: 'wiped',
  call(env, block, value) {
    const v = guard(env, block, value);
    return destructiveCall(env, block, v.ty, v);
  },
  safe: (env, block, ty) => destructiveCall(env, block, ty, null),
});

function emailChannel(env: Env, internal = false): void {
  env.p.channel('email', { email: { smtp: 'smtp://127.0.0.1:2525', from: 'orch@example.com' }, ...(internal ? { internal: true } : {}) });
}

const emailTo = callSink({
  id: 'email_to',
  label: 'integrity',
  title: 'email.to',
  need: 'list',
  flexible: false,
  fixes: [],
  stepName: 'mailed',
  call(env, block, value) {
    emailChannel(env);
    const v = guard(env, block, value);
    return `email(${markSink(`to: ${v.expr}`)}, subject: "Weekly note", text: "See the dashboard.")`;
  },
  safe: (env) => (emailChannel(env), 'email(to: ["ops@example.com"], subject: "Weekly note", text: "See the dashboard.")'),
});

const emailChannelSink = callSink({
  id: 'email_channel',
  label: 'integrity',
  title: 'email.channel',
  need: 'text',
  flexible: false,
  fixes: ['other-argument'],
  stepName: 'mailed',
  call(env, block, value) {
    emailChannel(env);
    const v = guard(env, block, value);
    if (env.fix === 'other-argument') return `email(to: ["ops@example.com"], subject: "Weekly note", ${argument(env, 'channel', v, 'text', '"email"')})`;
    return `email(to: ["ops@example.com"], subject: "Weekly note", text: "See the dashboard.", ${argument(env, 'channel', v)})`;
  },
  safe: (env) => (emailChannel(env), 'email(to: ["ops@example.com"], subject: "Weekly note", text: "See the dashboard.", channel: "email")'),
});

function opsChannel(env: Env): void {
  env.p.channel('ops', { slack: 'secret:SLACK_WEBHOOK_URL' });
}

const notifyChannel = callSink({
  id: 'notify_channel',
  label: 'integrity',
  title: 'notify.channel',
  need: 'text',
  flexible: false,
  fixes: ['other-argument'],
  stepName: 'notified',
  call(env, block, value) {
    opsChannel(env);
    const v = guard(env, block, value);
    if (env.fix === 'other-argument') return `notify(${argument(env, 'channel', v, 'text')})`;
    return `notify(${argument(env, 'channel', v)}, text: "The nightly build finished.")`;
  },
  safe: (env) => (opsChannel(env), 'notify(channel: "ops", text: "The nightly build finished.")'),
});

const destructiveWhen: Sink = {
  id: 'destructive_when',
  label: 'integrity',
  title: 'when of a destructive step',
  need: 'flag',
  flexible: false,
  fixes: ['not-destructive'],
  step(env, block, value, attrs = []) {
    const v = guard(env, block, value);
    const destructive = env.fix === 'not-destructive' ? '' : '\ndestructive true';
    const cap = block.plan.file.cap('purge_cache', `kind tool\ninput { scope: string }\noutput { done: bool }\n${H}${destructive}\nrequires cpu`);
    block.add(stepText(env.p.name('purge'), `${cap}(scope: "all")`, attrs, markSink(`when ${v.expr}`)));
  },
};

// ───────────────────────────── confidentiality ─────────────────────────────

const TIERS = [
  { kind: 'cloud_region', level: 'personal' },
  { kind: 'pool', level: 'personal' },
  { kind: 'edge_cluster', level: 'sensitive' },
] as const;

const tier = callSink({
  id: 'tier',
  label: 'confidentiality',
  title: 'cloud or edge resource',
  need: 'text',
  flexible: true,
  fixes: ['accepts', 'local-resource'],
  stepName: 'crunched',
  level: (env) => TIERS[env.pick('tier', TIERS.length)]!.level,
  call(env, block, value) {
    const v = guard(env, block, value);
    return `${remoteCap(env, block, v.ty)}(${markSink(`v: ${v.expr}`)})`;
  },
  safe: (env, block, ty) => `${remoteCap(env, block, ty)}(v: ${CONSTANT[ty]})`,
});

/** The capability only the remote resource can host (it alone provides gpu), and that resource. */
function remoteCap(env: Env, block: Block, ty: Ty): string {
  const t = TIERS[env.pick('tier', TIERS.length)]!;
  const kind = env.fix === 'local-resource' ? 'local_device' : t.kind;
  const accepts = env.fix === 'accepts' ? `  accepts ${t.level}` : '';
  env.p.main.resources.set('remote', `resource remote { kind ${kind}  provides gpu${accepts} }`);
  return block.plan.file.cap(`crunch_${ty}`, `kind tool\ninput { v: ${ORCH_TYPE[ty]} }\noutput { v: string }\n${H}\nrequires gpu`);
}

const ENDPOINTS = [
  { tier: null, level: 'personal' },
  { tier: 'cloud', level: 'personal' },
  { tier: 'edge', level: 'sensitive' },
] as const;

const endpoint = callSink({
  id: 'endpoint',
  label: 'confidentiality',
  title: 'cloud or edge model endpoint',
  need: 'text',
  flexible: false,
  fixes: ['endpoint-accepts', 'endpoint-local'],
  stepName: 'summary',
  level: (env) => ENDPOINTS[env.pick('endpoint', ENDPOINTS.length)]!.level,
  call(env, block, value) {
    const v = guard(env, block, value);
    return `${modelCap(env, block)}(${markSink(`text: ${v.expr}`)})`;
  },
  safe: (env, block) => `${modelCap(env, block)}(text: "the weekly totals")`,
});

/** A model capability answered by the built-in handler, on a local box whose endpoint is remote. */
function modelCap(env: Env, block: Block): string {
  const e = ENDPOINTS[env.pick('endpoint', ENDPOINTS.length)]!;
  const local = env.fix === 'endpoint-local';
  const entry: Record<string, unknown> = { api: 'openai', base_url: local && !e.tier ? 'http://127.0.0.1:8000/v1' : 'https://llm.example.com/v1' };
  if (e.tier) entry.tier = local ? 'local' : e.tier;
  if (env.fix === 'endpoint-accepts') entry.accepts = e.level;
  env.p.endpoint('hosted', entry);
  (env.p.config.prices ??= {})['m-small'] = { input_per_mtok: 0.1, output_per_mtok: 0.4 };
  env.p.main.resources.set('llm_box', 'resource llm_box { kind local_device  provides llm  endpoint "hosted" }');
  return block.plan.file.cap('summarize', 'kind llm\ninput { text: string }\noutput { text: string }\nprompt "Summarize: ${input.text}"\nmodel "m-small"\nrequires llm');
}

const DATA = [
  { data: 'internal', level: 'personal' },
  { data: 'personal', level: 'sensitive' },
] as const;

const capData = callSink({
  id: 'cap_data',
  label: 'confidentiality',
  title: 'capability with a lower data class',
  need: 'text',
  flexible: true,
  fixes: ['raise-data'],
  stepName: 'archived',
  level: (env) => DATA[env.pick('data', DATA.length)]!.level,
  call(env, block, value) {
    const v = guard(env, block, value);
    return `${archiveCap(env, block, v.ty)}(${markSink(`v: ${v.expr}`)})`;
  },
  safe: (env, block, ty) => `${archiveCap(env, block, ty)}(v: ${CONSTANT[ty]})`,
});

function archiveCap(env: Env, block: Block, ty: Ty): string {
  const d = DATA[env.pick('data', DATA.length)]!;
  const data = env.fix === 'raise-data' ? d.level : d.data;
  return block.plan.file.cap(`archive_${ty}`, `kind tool\ninput { v: ${ORCH_TYPE[ty]} }\noutput { ok: bool }\n${H}\ndata ${data}\nrequires cpu`);
}

/** Email (its text or subject) or notify to Slack or a webhook; only an email channel can be made internal. */
const CHANNELS = ['email-text', 'email-subject', 'notify-slack', 'notify-webhook'] as const;

function channelVariant(env: Env): (typeof CHANNELS)[number] {
  const emailOnly = env.planned === 'internal-channel' || env.planned === 'recipient';
  return CHANNELS[env.pick('channel', emailOnly ? 2 : CHANNELS.length)]!;
}

const channel = callSink({
  id: 'channel',
  label: 'confidentiality',
  title: 'external channel',
  need: 'text',
  flexible: false,
  fixes: ['internal-channel', 'recipient'],
  stepName: 'sent',
  call(env, block, value) {
    const v = guard(env, block, value);
    const variant = channelVariant(env);
    if (variant.startsWith('notify')) {
      env.p.channel('crew', variant === 'notify-slack' ? { slack: 'secret:SLACK_WEBHOOK_URL' } : { webhook: { url: 'https://hooks.example.com/orch' } });
      return `notify(channel: "crew", ${markSink(`text: ${v.expr}`)})`;
    }
    emailChannel(env, env.fix === 'internal-channel');
    if (env.fix === 'recipient') return `email(to: [${v.expr}], subject: "Daily note", text: "Your daily note is ready.")`;
    return variant === 'email-text'
      ? `email(to: ["team@example.com"], subject: "Daily note", ${markSink(`text: ${v.expr}`)})`
      : `email(to: ["team@example.com"], ${markSink(`subject: ${v.expr}`)}, text: "Your daily note is ready.")`;
  },
  safe(env) {
    const variant = channelVariant(env);
    if (variant.startsWith('notify')) return 'notify(channel: "crew", text: "All done.")';
    emailChannel(env, env.fix === 'internal-channel');
    return 'email(to: ["team@example.com"], subject: "Daily note", text: "Your daily note is ready.")';
  },
});

const STORE = {
  name: 'store',
  inputSchema: { type: 'object', properties: { note: { type: 'string' } }, required: ['note'] },
  outputSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
};

function vault(env: Env, block: Block): void {
  env.p.mcpServer('vault', { url: 'https://tools.example.com/mcp' }, [STORE]);
  block.plan.file.imports.add('import mcp "vault" as vault');
}

const mcpTool = callSink({
  id: 'mcp_tool',
  label: 'confidentiality',
  title: 'MCP tool (remote server)',
  need: 'text',
  flexible: false,
  fixes: [],
  stepName: 'stored',
  call(env, block, value) {
    vault(env, block);
    const v = guard(env, block, value);
    return `vault.store(${markSink(`note: ${v.expr}`)})`;
  },
  safe: (env, block) => (vault(env, block), 'vault.store(note: "weekly totals")'),
});

export const SINKS: readonly Sink[] = [trustedParam, destructive, emailTo, emailChannelSink, notifyChannel, destructiveWhen, tier, endpoint, capData, channel, mcpTool];
