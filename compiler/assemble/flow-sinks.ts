/**
 * Where §9.3's rules bite: which parameters need a trusted value, which capabilities are sources
 * of untrusted values, and how high a class a step's resource, model endpoint, capability or
 * channel takes. Read from the capability's declaration, the binding placement chose and the
 * project's config — files alone.
 */
import type { CapabilityDecl, DataClass, Integrity } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import { alwaysUntrusted } from '../ir/always-untrusted.js';
import { builtinOf } from '../ir/builtin.js';
import type { BindingIR, TierIR } from '../ir/types.js';
import type { PlacementResource } from '../placement.js';
import { isLoopback } from '../endpoint-tiers.js';
import { channelTransport, configSection, projectConfigFor } from '../project-config.js';
import { rank } from './flow-labels.js';

/**
 * §9.3's rules for std's message and approval built-ins (and their refinements), by builtin; the
 * compile-time analysis and the load-time re-check of an older IR both read them.
 */
export interface StdSink {
  /** Parameters that take only trusted values (who receives, where it goes). */
  readonly trusted: readonly string[];
  /**
   * The highest class its arguments take: an approver reads up to personal whatever class the
   * approval's output is; `channel`: the channel judges (notify's own `data internal` would
   * forbid an internal channel what §9.3 lets it carry). None: the capability's `data`.
   */
  readonly args?: DataClass | 'channel';
  /** A message built-in: the channel when the call names none, and the parameters the channel does not judge. */
  readonly channel?: { readonly default: string | null; readonly exempt: readonly string[] };
}
const STD_SINKS: Readonly<Record<string, StdSink>> = {
  email: { trusted: ['to', 'channel'], channel: { default: 'email', exempt: ['to'] } },
  notify: { trusted: ['channel'], args: 'channel', channel: { default: null, exempt: [] } },
  // Who may approve and how many must: a four-eyes rule a model's answer or a tool's could loosen
  // is none (§9.1's headline), so they are sinks as a recipient is; what is shown is not.
  approval: { trusted: ['approver', 'approvals', 'not_starter'], args: 'personal' },
};

/** The rules of the std built-in `builtin` (builtinOf) when it is a message or approval one. */
export function stdSink(builtin: string | null): StdSink | undefined {
  return builtin === null ? undefined : STD_SINKS[builtin];
}

const TIER_ACCEPTS: Record<TierIR, DataClass> = { local: 'secret', edge: 'personal', cloud: 'internal', human: 'personal' };

/**
 * A §9.3 property (`trust`, `endorses`, `data`) as the capability declares it or, for a refinement
 * (`capability x from base {…}`) that does not, as what it refines does: a refinement overrides
 * what it declares and keeps the rest, so refining never launders an untrusted tool or a class.
 */
export function declaredFlow<K extends 'trust' | 'endorses' | 'data'>(cap: CapabilityInfo, key: K): CapabilityDecl[K] | undefined {
  for (let c: CapabilityInfo | undefined = cap; c; c = c.base) {
    const v = c.entry.node[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Why a capability's output is untrusted whatever it read (null: it is not a source). */
export function untrustedSource(cap: CapabilityInfo): string | null {
  // A model's or http_request's answer is a source whatever is declared (E0201 at a `trust trusted` there).
  const always = alwaysUntrusted(cap.ir);
  if (always !== null) return always;
  const trust = declaredFlow(cap, 'trust');
  if (trust === 'trusted') return null;
  if (trust === 'untrusted') return 'trust untrusted';
  if (cap.ir.handler && 'mcp' in cap.ir.handler) return 'mcp';
  return null;
}

/** Its output is trusted whatever it read: a validator (`endorses true`) or a tool refined `trust trusted`. */
export function endorses(cap: CapabilityInfo): boolean {
  return declaredFlow(cap, 'endorses') === true || (declaredFlow(cap, 'trust') === 'trusted' && alwaysUntrusted(cap.ir) === null);
}

/**
 * The `@trusted`/`@untrusted` marks of a capability's parameters: its own (a refinement restates a
 * parameter to mark it) over those of what it refines.
 */
function paramTrust(cap: CapabilityInfo): ReadonlyMap<string, Integrity> {
  let m = paramCache.get(cap);
  if (!m) {
    const marks = new Map(cap.base ? paramTrust(cap.base) : undefined);
    for (const f of cap.entry.node.input?.fields ?? []) if (f.trust) marks.set(f.name.name, f.trust);
    paramCache.set(cap, (m = marks));
  }
  return m;
}
const paramCache = new WeakMap<CapabilityInfo, ReadonlyMap<string, Integrity>>();

/** Whether parameter `name` of `cap` takes only trusted values. */
export function needsTrust(cap: CapabilityInfo, name: string): boolean {
  // Who receives an email, where a message goes: §9.3 names these sinks outright, so no mark of a
  // refinement (`capability mail from email { input { to: list<string> @untrusted } }`) opens them.
  if (stdSink(builtinOf(cap.ir))?.trusted.includes(name)) return true;
  const mark = paramTrust(cap).get(name);
  if (mark === 'trusted') return true;
  if (mark === 'untrusted') return false;
  return cap.ir.destructive === true;
}

/** The highest class the step's place takes, and what that place is (for the message). */
export function placeAccepts(b: BindingIR | undefined, resources: ReadonlyMap<string, PlacementResource>, file: string): { cls: DataClass; what: string } {
  let cls: DataClass = 'secret';
  let what = 'the local host';
  const r = b?.resource != null ? resources.get(b.resource) : undefined;
  if (r) {
    cls = r.accepts ?? TIER_ACCEPTS[r.tier];
    what = `resource ${r.name} (${r.tier}${r.accepts ? `, accepts ${r.accepts}` : ''})`;
  }
  if (b?.endpoint !== undefined) {
    const own = endpointAccepts(b.endpoint, file);
    const ep = own ?? TIER_ACCEPTS[b.endpoint_tier ?? 'cloud'];
    if (rank(ep) < rank(cls)) {
      cls = ep;
      what = `model endpoint ${b.endpoint} (${b.endpoint_tier ?? 'cloud'}${own ? `, accepts ${own}` : ''})`;
    }
  }
  return { cls, what };
}

/**
 * How high a class an MCP tool's server takes (§9.3 lists MCP tools among the places a class may
 * not go; §9.1 gives no tier of their own, so the endpoints' rule is followed — decision in
 * docs/language.md): the entry's `"accepts"`, else its `"tier"`'s, else a `url` server off the
 * loopback counts as cloud and a local one (a `command`, a loopback `url`) takes any class.
 * Null for a capability that is no MCP tool.
 */
export function mcpAccepts(cap: CapabilityInfo, file: string): { cls: DataClass; what: string } | null {
  const handler = cap.ir.handler;
  if (!handler || !('mcp' in handler)) return null;
  const entry = configSection(projectConfigFor(file), 'mcp')[handler.mcp] as { accepts?: unknown; tier?: unknown; url?: unknown } | undefined;
  const tier: TierIR =
    typeof entry?.tier === 'string' && entry.tier in TIER_ACCEPTS
      ? (entry.tier as TierIR)
      : typeof entry?.url === 'string' && !isLoopback(entry.url)
        ? 'cloud'
        : 'local';
  const own = typeof entry?.accepts === 'string' && entry.accepts in CLASS_SET ? (entry.accepts as DataClass) : undefined;
  return { cls: own ?? TIER_ACCEPTS[tier], what: `MCP server ${handler.mcp} (${tier}${own ? `, accepts ${own}` : ''})` };
}

function endpointAccepts(name: string, file: string): DataClass | undefined {
  const ep = configSection(projectConfigFor(file), 'endpoints')[name] as { accepts?: unknown } | undefined;
  const a = ep?.accepts;
  return typeof a === 'string' && a in CLASS_SET ? (a as DataClass) : undefined;
}
const CLASS_SET = { public: 1, internal: 1, personal: 1, sensitive: 1, secret: 1 };

/**
 * Whether a message channel leaves the organisation: every email, Slack and webhook channel
 * unless its config entry says `"internal": true`. A channel named by an expression is external
 * when any configured channel is; `notify` to no configured channel goes to the run's log.
 */
export function channelExternal(builtin: string | null, channel: string | null, file: string): boolean {
  const channels = configSection(projectConfigFor(file), 'channels');
  const isExternal = (entry: unknown): boolean => {
    if (!entry || typeof entry !== 'object' || (entry as Record<string, unknown>).internal === true) return false;
    return channelTransport(entry) !== undefined;
  };
  if (channel === null) return Object.values(channels).some(isExternal) || (builtin === 'email' && Object.keys(channels).length === 0);
  const entry = channels[channel];
  if (entry === undefined) return builtin === 'email';
  return isExternal(entry);
}
