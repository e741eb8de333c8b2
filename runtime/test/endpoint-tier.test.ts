/**
 * LANGUAGE.md §9.1: the tier a model call's endpoint was compiled for, as the process that sends
 * the prompt reads it back — for a step's own call and for its `fallback` and `compensate` calls,
 * each placed (and given its endpoint) by the compiler on its own binding.
 */
import { describe, expect, it } from 'vitest';
import type { PlanIR } from '../../compiler/index.js';
import { compiledTier, tierRefusal } from '../models/endpoint-tier.js';

const binding = (endpoint: string, endpoint_tier: 'local' | 'cloud') => ({ resource: null, tier: endpoint_tier, rationale: '', fallbacks: [], endpoint, endpoint_tier });
const plan = {
  steps: [{ id: 'd', binding: binding('lo', 'local'), fallback: { capability: 'fb', args: {}, binding: binding('lo2', 'local') }, compensate: { capability: 'undo', args: {}, binding: binding('lo3', 'local') } }],
} as unknown as PlanIR;
const req = (purpose: 'call' | 'fallback' | 'compensate') => ({ plan, baseStepId: 'd', resource: null, purpose });

describe('the compiled tier of a model call’s endpoint (§9.1)', () => {
  it('is the step binding’s for its own call, and the fallback’s or compensation’s own binding for theirs', () => {
    expect(compiledTier(req('call'), 'lo')).toBe('local');
    expect(compiledTier(req('fallback'), 'lo2')).toBe('local');
    expect(compiledTier(req('compensate'), 'lo3')).toBe('local');
    // So a config that now calls the fallback's endpoint cloud refuses it, as it would the step's own.
    expect(tierRefusal('lo2', compiledTier(req('fallback'), 'lo2'), 'cloud', 'orch.config.json')).toMatch(/^model endpoint "lo2" is tier cloud in orch.config.json but the plan was compiled for tier local/);
  });

  it('on a run-time alternative resource that names no endpoint, is the capability’s own endpoint’s as compiled', () => {
    // The step was placed on a resource with endpoint "lo"; rebound to one with none, the call goes to the capability's "lo2".
    const capability = { name: 'main.c', llm: { endpoint: 'lo2', endpoint_tier: 'local' } } as unknown as Parameters<typeof compiledTier>[0]['capability'];
    const alt = { name: 'b', kind: 'local_device', tier: 'local' } as unknown as Parameters<typeof compiledTier>[0]['resource'];
    expect(compiledTier({ ...req('call'), capability, resource: alt }, 'lo2')).toBe('local');
  });
});
