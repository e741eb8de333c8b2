/**
 * The tier of a model endpoint (LANGUAGE.md §9.1), from files alone: its `"tier"` in
 * orch.config.json's `endpoints`, else `local` when its `base_url` is on a loopback address and
 * `cloud` otherwise (no `base_url` is the provider's cloud). A JS config is never run here, so
 * its endpoints take their tier from orch.config.json's `"tiers"` beside it, else `cloud`; so does
 * an endpoint the config does not define (W0803 says so) — an unknown place is never trusted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TierIR } from './ir/types.js';
import { configSection, projectConfigFor, type ProjectConfigView } from './project-config.js';

export type EndpointTier = Exclude<TierIR, 'human'>;

export const TIERS: ReadonlySet<string> = new Set(['local', 'edge', 'cloud']);
const RANK: Record<TierIR, number> = { local: 0, edge: 1, cloud: 2, human: 3 };

/** The higher (less trusted) of two tiers. */
export function higherTier<T extends TierIR>(a: T, b: T): T {
  return RANK[b] > RANK[a] ? b : a;
}

/** The tier of endpoint `name` of the project that `file` belongs to. */
export function endpointTierFor(name: string, file: string): EndpointTier {
  return endpointTier(name, projectConfigFor(file));
}

export function endpointTier(name: string, view: ProjectConfigView): EndpointTier {
  if (view.kind === 'opaque') return jsonTiers(view.root)[name] ?? 'cloud';
  const ep = configSection(view, 'endpoints')[name];
  if (!ep || typeof ep !== 'object') return 'cloud';
  const { tier, base_url } = ep as { tier?: unknown; base_url?: unknown };
  if (typeof tier === 'string' && TIERS.has(tier)) return tier as EndpointTier;
  // A "tier" that says none of the three is a typo (W0803; orch run refuses it): never the loopback default.
  if (tier !== undefined) return 'cloud';
  return typeof base_url === 'string' && isLoopback(base_url) ? 'local' : 'cloud';
}

/** Whether a URL's host is a loopback address (localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104). */
export function isLoopback(url: string): boolean {
  let host: string;
  try {
    // `localhost.` is the same name fully qualified; the URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
    host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host) || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}

/** `"tiers"` of an orch.config.json beside a JS config (`{}` when there is none or it is unreadable). */
function jsonTiers(root: string): Readonly<Record<string, EndpointTier>> {
  const file = join(root, 'orch.config.json');
  if (!existsSync(file)) return {};
  try {
    const raw = (JSON.parse(readFileSync(file, 'utf8')) as { tiers?: unknown }).tiers;
    if (!raw || typeof raw !== 'object') return {};
    return Object.fromEntries(Object.entries(raw).filter(([, t]) => typeof t === 'string' && TIERS.has(t))) as Record<string, EndpointTier>;
  } catch {
    return {};
  }
}
