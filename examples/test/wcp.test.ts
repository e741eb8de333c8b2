/**
 * examples/patterns/wcp/: one small plan per workflow control-flow pattern (van der Aalst's WCP-1
 * … WCP-20, table in docs/language.md), each RUN by the real CLI (worker threads, SQLite) with
 * the result the pattern promises.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchAsync as orch } from './cli.js';

const FILE = 'examples/patterns/wcp/wcp.orch';
const db = () => path.join(mkdtempSync(path.join(tmpdir(), 'orch-wcp-')), 'runs.db');

interface Case {
  readonly plan: string;
  readonly input?: unknown;
  readonly context?: unknown;
  readonly status?: string;
  readonly output?: unknown;
  readonly error?: string;
  /** Steps that must have run (completed) — and which must not. */
  readonly check?: (result: Result, events: Ev[]) => void;
}
interface Result {
  readonly status: string;
  readonly error: string | null;
  readonly output: unknown;
  readonly runId: string;
  readonly steps: readonly { stepId: string; status: string }[];
  readonly metadata: { cancelledSteps: number };
}
interface Ev {
  readonly type: string;
  readonly stepId: string | null;
  readonly ts: number;
  readonly data: Record<string, unknown>;
}
const status = (r: Result, id: string) => r.steps.find((s) => s.stepId === id)?.status;

const CASES: readonly Case[] = [
  { plan: 'wcp01_sequence', output: { result: 'ab' } },
  {
    plan: 'wcp02_parallel_split_sync',
    output: { result: 'ab+ac' },
    check: (_r, ev) => {
      // b and c both started before either completed (parallel split); d after both (synchronization).
      const at = (t: string, s: string) => ev.find((e) => e.type === t && e.stepId === s)!.ts;
      expect(at('step_started', 'c')).toBeLessThanOrEqual(at('step_completed', 'b'));
      expect(at('step_started', 'd')).toBeGreaterThanOrEqual(Math.max(at('step_completed', 'b'), at('step_completed', 'c')));
    },
  },
  { plan: 'wcp04_choice_merge', input: { big: true }, output: { result: 'large' } },
  { plan: 'wcp04_choice_merge', input: { big: false }, output: { result: 'small' } },
  { plan: 'wcp06_multi_choice_sync_merge', input: { email: true, sms: true }, output: { result: 'email/sms' } },
  { plan: 'wcp06_multi_choice_sync_merge', input: { email: false, sms: true }, output: { result: '-/sms' } },
  { plan: 'wcp09_discriminator', output: { result: 'b' } },
  { plan: 'wcp10_bounded_cycle', output: { result: 'xxx', rounds: 3 } },
  { plan: 'wcp11_implicit_termination', output: { result: 'ab' } },
  {
    plan: 'wcp12_mi_no_sync',
    input: { items: ['p', 'q', 'r'] },
    output: { result: 'started', handled: 3 },
    check: (_r, ev) => {
      const notify = ev.find((e) => e.type === 'step_completed' && e.stepId === 'notify')!.ts;
      expect(ev.some((e) => e.type === 'step_completed' && e.stepId!.startsWith('handle[') && e.ts >= notify)).toBe(true);
    },
  },
  { plan: 'wcp13_mi_design_time', output: { result: '3 reviews' } },
  { plan: 'wcp14_mi_run_time', input: { items: ['a', 'b', 'c', 'd'] }, output: { result: '4 handled' } },
  { plan: 'wcp15_mi_no_prior_knowledge', input: { stop_at: 3 }, output: { result: 'instance 3', instances: 4 } },
  { plan: 'wcp16_deferred_choice', output: { result: 'decided by timeout' } },
  { plan: 'wcp16_deferred_choice', context: { approved: true }, output: { result: 'decided by approval' } },
  {
    plan: 'wcp17_interleaved',
    output: { result: 'paint,sand,polish' },
    check: (_r, ev) => {
      let running = 0;
      for (const e of ev) {
        if (!['paint', 'sand', 'polish'].includes(e.stepId ?? '')) continue;
        if (e.type === 'step_started') expect(++running).toBe(1);
        if (e.type === 'step_completed') running--;
      }
    },
  },
  { plan: 'wcp18_milestone', context: { approved: true }, output: { result: 'shipped' } },
  { plan: 'wcp18_milestone', output: { result: 'not shipped' } },
  {
    plan: 'wcp19_cancel_activity',
    context: { withdrawn: true },
    output: { result: 'ended by withdraw' },
    check: (r) => {
      expect(status(r, 'long_task')).toBe('cancelled');
      expect(r.metadata.cancelledSteps).toBe(1);
    },
  },
  {
    plan: 'wcp20_cancel_case',
    status: 'failed',
    error: 'step broken failed: failed: broken',
    check: (r) => expect(status(r, 'slow')).toBe('cancelled'),
  },
];

describe('workflow control-flow patterns (examples/patterns/wcp)', () => {
  it('every plan of wcp.orch has a case', () => {
    const plans = [...readFileSync(FILE, 'utf8').matchAll(/^plan (\w+)/gm)].map((m) => m[1]);
    expect([...new Set(CASES.map((c) => c.plan))].sort()).toEqual(plans.sort());
  });

  it.concurrent.each(CASES.map((c, i) => [`${c.plan} #${i}`, c] as const))('%s', async (_name, c) => {
    const journal = db();
    const args = ['run', FILE, '--plan', c.plan, '--input', JSON.stringify(c.input ?? {}), '--json', '--db', journal];
    if (c.context) args.push('--context', JSON.stringify(c.context));
    const r = await orch(args);
    const result = JSON.parse(r.stdout) as Result;
    expect(result.status, r.stderr).toBe(c.status ?? 'completed');
    if (c.output !== undefined) expect(result.output).toEqual(c.output);
    if (c.error !== undefined) expect(result.error).toBe(c.error);
    if (c.check) {
      const t = await orch(['timeline', result.runId, '--json', '--db', journal]);
      // Each event as the journal holds it (orch.events/v2): ts in epoch ms.
      c.check(result, (JSON.parse(t.stdout) as { events: Ev[] }).events);
    }
  });
});
