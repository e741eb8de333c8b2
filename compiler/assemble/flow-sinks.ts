/**
 * Where §9.3's rules bite: which parameters need a trusted value, which capabilities are sources
 * of untrusted values, and how high a class a step's resource, model endpoint, capability or
 * channel takes. Read from the capability's declaration, the binding placement chose and the
 * project's config — files alone.
 */
import type { DataClass, FieldDecl } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { BindingIR, TierIR } from '../ir/types.js';
import type { PlacementResource } from '../placement.js';
import { isLoopback } from '../endpoint-tiers.js';
import { channelTransport, configSection, projectConfigFor } from '../project-config.js';
import { rank } from './flow-labels.js';

export const STD_EMAIL = 'std.capabilities.email';
export const STD_NOTIFY = 'std.capabilities.notify';
export const STD_APPROVAL = 'std.capabilities.approval';
const STD_HTTP = 'std.capabilities.http_request';

const TIER_ACCEPTS: Record<TierIR, DataClass> = { local: 'secret', edge: 'personal', cloud: 'internal', human: 'personal' };

/** Why a capability's output is untrusted whatever it read (null: it is not a source). */
export function untrustedSource(cap: CapabilityInfo): string | null {
  const decl = cap.entry.node;
  if (decl.trust === 'trusted') return null;
  if (decl.trust === 'untrusted') return 'trust untrusted';
  if (cap.ir.kind === 'llm') return 'llm';
  if (cap.ir.handler && 'mcp' in cap.ir.handler) return 'mcp';
  if (cap.name === STD_HTTP) return 'http_request';
  return null;
}

/** Its output is trusted whatever it read: a validator (`endorses true`) or a tool refined `trust trusted`. */
export function endorses(cap: CapabilityInfo): boolean {
  const decl = cap.entry.node;
  return decl.endorses === true || decl.trust === 'trusted';
}

/** The parameters a capability declares (a refinement's own, where it re-declares them). */
export function paramDecls(cap: CapabilityInfo): ReadonlyMap<string, FieldDecl> {
  let m = paramCache.get(cap);
  if (!m) {
    m = new Map((cap.entry.node.input?.fields ?? []).map((f) => [f.name.name, f]));
    paramCache.set(cap, m);
  }
  return m;
}
const paramCache = new WeakMap<CapabilityInfo, ReadonlyMap<string, FieldDecl>>();

/** Whether parameter `name` of `cap` takes only trusted values. */
export function needsTrust(cap: CapabilityInfo, name: string): boolean {
  const p = paramDecls(cap).get(name);
  if (p?.trust === 'trusted') return true;
  if (p?.trust === 'untrusted') return false;
  if (cap.ir.destructive) return true;
  if (cap.name === STD_EMAIL) return name === 'to' || name === 'channel';
  if (cap.name === STD_NOTIFY) return name === 'channel';
  return false;
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
export function channelExternal(capability: string, channel: string | null, file: string): boolean {
  const channels = configSection(projectConfigFor(file), 'channels');
  const isExternal = (entry: unknown): boolean => {
    if (!entry || typeof entry !== 'object' || (entry as Record<string, unknown>).internal === true) return false;
    return channelTransport(entry) !== undefined;
  };
  if (channel === null) return Object.values(channels).some(isExternal) || (capability === STD_EMAIL && Object.keys(channels).length === 0);
  const entry = channels[channel];
  if (entry === undefined) return capability === STD_EMAIL;
  return isExternal(entry);
}
