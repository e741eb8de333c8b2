/**
 * The built-in "concurrency limits held" judges event sequences with the scheduler's own
 * definitions: a `for each` item is in flight from its first step start until all its steps
 * (waits included) are terminal; a resource's limit counts approvals bound to it.
 */
import { describe, expect, it } from 'vitest';
import type { StepStatus, StepView } from '../../compiler/index.js';
import { storedEvent, type RunEvent, type RunReader } from '../../runtime/index.js';
import { BUILTIN, CaseMonitor } from '../monitor.js';
import { approvalCapability, simulatedCapability, get, inputVar, lit, plan, resource, step } from '../../runtime/test/ir-builder.js';

const each = { group: 'g0', item: 'r', list: get(inputVar, 'xs'), parallel: 1 };
const sendThenPause = plan({
  plan: 'paced',
  capabilities: [simulatedCapability('send_message')],
  steps: [
    step('send', 'send_message', { for_each: each }),
    step('pause', null as unknown as string, {
      capability: null,
      kind: null,
      action: { type: 'wait', duration_ms: lit(1000) },
      deps: ['send'],
      after: ['send'],
      stage: 1,
      for_each: each,
    }),
  ],
  stages: [['send'], ['pause']],
});

/** Replays a hand-written event sequence into a monitor, with the step states it implies. */
function judge(p: typeof sendThenPause, script: readonly [RunEvent['type'], string][]) {
  // Every instance exists (pending) from the start, as when the block expanded at once.
  const status = new Map<string, StepStatus>(p.steps.flatMap((s) => [0, 1].map((i): [string, StepStatus] => [`${s.id}[${i}]`, 'pending'])));
  const view = (s: StepStatus): StepView => ({
    output: null,
    status: s,
    started: s !== 'pending',
    completed: s === 'completed',
    failed: s === 'failed',
    skipped: s === 'skipped',
    attempts: 1,
    duration: 0,
    cost: 0,
    resource: null,
  });
  const reader: RunReader = {
    runId: 'r',
    plan: p,
    status: () => 'running',
    stepView: (id) => (status.has(id) ? view(status.get(id)!) : undefined),
    running: () => [...status].filter(([, s]) => s === 'running').map(([k]) => k),
    actuals: () => ({ cost: 0, elapsed: 0, status: 'running' }),
    context: () => ({}),
    input: () => ({ xs: ['a', 'b'] }),
  };
  const monitor = new CaseMonitor(p, { invariants: [], builtins: new Set([BUILTIN.concurrency]) });
  let seq = 0;
  for (const [type, key] of script) {
    if (type === 'step_started') status.set(key, 'running');
    if (type === 'step_completed') status.set(key, 'completed');
    monitor.observe(storedEvent('r', ++seq, seq, type, key, {})!, reader);
  }
  return monitor.violation;
}

describe('concurrency limits held (built-in) uses the scheduler definitions', () => {
  it('parallel 1: send[1] starting while pause[0] still waits is a violation', () => {
    const v = judge(sendThenPause, [
      ['step_started', 'send[0]'],
      ['step_completed', 'send[0]'],
      ['step_started', 'pause[0]'],
      ['step_started', 'send[1]'],
    ]);
    expect(v?.invariant).toBe(BUILTIN.concurrency);
    expect(v?.message).toContain('2 items');
  });

  it('parallel 1: send[1] starting between send[0] and pause[0] is a violation (item 0 is still in flight)', () => {
    const v = judge(sendThenPause, [
      ['step_started', 'send[0]'],
      ['step_completed', 'send[0]'],
      ['step_started', 'send[1]'],
    ]);
    expect(v?.invariant).toBe(BUILTIN.concurrency);
  });

  it('parallel 1: send[1] after pause[0] is over holds', () => {
    const v = judge(sendThenPause, [
      ['step_started', 'send[0]'],
      ['step_completed', 'send[0]'],
      ['step_started', 'pause[0]'],
      ['step_completed', 'pause[0]'],
      ['step_started', 'send[1]'],
    ]);
    expect(v).toBeNull();
  });

  it('two approvals on a human resource with concurrency 1 are a violation', () => {
    const reviews = plan({
      plan: 'reviews',
      capabilities: [approvalCapability],
      resources: [resource('legal', { kind: 'human', tier: 'human', concurrency: 1 })],
      steps: [
        step('sign_off', 'std.capabilities.approval', {
          kind: 'human',
          resource: 'legal',
          binding: { resource: 'legal', tier: 'human', rationale: 'pinned', fallbacks: [] },
          for_each: { ...each, parallel: null },
        }),
      ],
      stages: [['sign_off']],
    });
    const v = judge(reviews, [
      ['step_started', 'sign_off[0]'],
      ['step_started', 'sign_off[1]'],
    ]);
    expect(v?.message).toContain('resource legal');
  });
});
