/**
 * Where a finished run's steps ran, read back from its events: the figures `orch runs --stats`
 * computes (local ratio, privacy score) count each step instance that finished, on the resource
 * its last attempt started on — and a step stopped with its run once it had started counts too.
 */
import { describe, expect, it } from 'vitest';
import type { EventType, RunEvent } from '../scheduler/types.js';
import { storedEvent } from '../scheduler/journal-events.js';
import { placedSteps } from '../placed-steps.js';
import { capability, lit, plan, resource, step } from './ir-builder.js';

const p = plan({
  resources: [resource('phone', { kind: 'edge_gateway', tier: 'edge' }), resource('cloud', { kind: 'cloud_region', tier: 'cloud' })],
  capabilities: [capability('echo')],
  steps: [
    step({ id: 'near', capability: 'echo', resource: 'phone', data: 'personal', args: { value: lit('a') } }),
    step({ id: 'far', capability: 'echo', resource: 'cloud', data: 'personal', args: { value: lit('b') } }),
    step({ id: 'plain', capability: 'echo', resource: 'cloud', args: { value: lit('c') } }),
  ],
});

function events(list: readonly [EventType, string, Record<string, unknown>?][]): RunEvent[] {
  return list.map(([type, stepId, data], i) => storedEvent('r', i + 1, 1000 + i, type, stepId, data ?? {})!);
}

describe('placedSteps', () => {
  it('counts a step cancelled with its run once it had started, on the resource it started on', () => {
    const placed = placedSteps(
      p,
      events([
        ['step_started', 'near', { attempt: 1, resource: 'phone' }],
        ['step_completed', 'near'],
        ['step_started', 'far', { attempt: 1, resource: 'cloud' }],
        ['step_cancelled', 'far', { reason: 'cancelled by user' }],
      ]),
    );
    expect(placed).toEqual([
      { tier: 'edge', data: 'personal' },
      { tier: 'cloud', data: 'personal' },
    ]);
  });

  it('leaves out a step cancelled before it started: it ran nowhere', () => {
    const placed = placedSteps(
      p,
      events([
        ['step_started', 'near', { attempt: 1, resource: 'phone' }],
        ['step_failed', 'near', { error: 'boom' }],
        ['step_cancelled', 'plain', { reason: 'run failed' }],
      ]),
    );
    expect(placed).toEqual([{ tier: 'edge', data: 'personal' }]);
  });

  it('places an instance by its last attempt, with its step’s data class', () => {
    const placed = placedSteps(
      p,
      events([
        ['step_started', 'far[0]', { attempt: 1, resource: 'cloud' }],
        ['step_retried', 'far[0]', { error: 'flaky' }],
        ['step_started', 'far[0]', { attempt: 2, resource: 'phone' }],
        ['step_completed', 'far[0]'],
      ]),
    );
    expect(placed).toEqual([{ tier: 'edge', data: 'personal' }]);
  });

  it('places a model step at the higher of its resource’s and its endpoint’s tier, as the preview does (§9.1)', () => {
    const llm = { prompt: lit('hi'), system: null, model: 'm', temperature: null, max_tokens: null } as unknown as NonNullable<Parameters<typeof capability>[1]>['llm'];
    const m = plan({
      resources: [resource('laptop', { kind: 'local_device', tier: 'local', endpoint: 'far', endpoint_tier: 'cloud' })],
      capabilities: [capability('ask', { kind: 'llm', llm })],
      steps: [step({ id: 'ask', capability: 'ask', resource: 'laptop', data: 'personal', args: {} })],
    });
    const placed = placedSteps(m, events([['step_started', 'ask', { attempt: 1, resource: 'laptop' }], ['step_completed', 'ask']]));
    expect(placed).toEqual([{ tier: 'cloud', data: 'personal' }]);
  });
});
