/**
 * The pure decision of runtime/models/endpoint-tier.ts (LANGUAGE.md §9.1): which tier this
 * process's config gives an endpoint, which tier the IR recorded for the endpoint an attempt
 * reaches, and that only a higher tier here than there is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EndpointTier, PlanIR, ResourceIR } from '../../../compiler/index.js';
import { compiledTier, configuredTier, tierRefusal } from '../endpoint-tier.js';

const TIERS: readonly EndpointTier[] = ['local', 'edge', 'cloud'];

describe('an endpoint tier re-decided where the call is made', () => {
  it('the config says it: its "tier", else local on a loopback base_url, cloud otherwise', () => {
    expect(configuredTier({ tier: 'edge', base_url: 'http://127.0.0.1:1/v1' })).toBe('edge');
    expect(configuredTier({ tier: null, base_url: 'http://127.0.0.1:1/v1' })).toBe('local');
    expect(configuredTier({ tier: null, base_url: 'http://[::1]:8080' })).toBe('local');
    expect(configuredTier({ tier: null, base_url: 'https://api.example.com/v1' })).toBe('cloud');
    expect(configuredTier({ tier: null, base_url: null })).toBe('cloud');
  });

  it('only a higher tier here is refused, naming the endpoint, both tiers and the config', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TIERS), fc.constantFrom(...TIERS), (compiled, here) => {
        const why = tierRefusal('ep', compiled, here, 'w.json');
        if (TIERS.indexOf(here) > TIERS.indexOf(compiled)) {
          expect(why).toContain(`model endpoint "ep" is tier ${here} in w.json but the plan was compiled for tier ${compiled}`);
        } else expect(why).toBeNull();
      }),
    );
    // An IR compiled before v0.4 records no tier: nothing to hold the endpoint to.
    expect(tierRefusal('ep', undefined, 'cloud', 'w.json')).toBeNull();
  });

  it("the IR's tier: the resource's when the endpoint is the resource's, else the step binding's", () => {
    const res = (endpoint: string, endpoint_tier: EndpointTier) => ({ name: 'r', endpoint, endpoint_tier }) as unknown as ResourceIR;
    const plan = { steps: [{ id: 's', binding: { endpoint: 'own', endpoint_tier: 'edge' } }] } as unknown as PlanIR;
    expect(compiledTier({ plan, baseStepId: 's', resource: res('gw', 'cloud') }, 'gw')).toBe('cloud');
    expect(compiledTier({ plan, baseStepId: 's', resource: null }, 'own')).toBe('edge');
    expect(compiledTier({ plan, baseStepId: 's', resource: res('gw', 'cloud') }, 'own')).toBe('edge');
    expect(compiledTier({ plan, baseStepId: 's', resource: null }, 'other')).toBeUndefined();
    expect(compiledTier({ plan, baseStepId: 'nope', resource: null }, 'own')).toBeUndefined();
  });
});
