/**
 * The chain `not_starter` reads (LANGUAGE.md §9.1): everyone who started or caused any run a new
 * run came from — through `after` chains, retries, forks and sub-plans, transitively — walked once
 * when the run starts and journaled as `chain_people`.
 */
import { describe, expect, it } from 'vitest';
import { chainPeople, startOrigin, subplanOrigin } from '../people/run-chain.js';
import type { Starter } from '../scheduler/core/identity.js';

const p = (subject: string, method: Starter['method'] = 'token'): Starter => ({ subject, issuer: 'local', method });
const trigger = (name: string): Starter => ({ subject: `system:trigger/${name}`, issuer: 'orch', method: 'trigger' });

/** Runs as their `plan_created` data says; a run not listed is gone (pruned). */
const journal = (runs: Record<string, Record<string, unknown>>) => async (id: string) => runs[id] ?? null;

describe('the chain behind a run (§9.1)', () => {
  it('walks every kind of link, transitively: starters and causes, each person once', async () => {
    const runs = journal({
      signalled: { started_by: trigger('on_go'), caused_by: p('alice') },
      chained: { started_by: trigger('after_go'), chained_from: 'signalled' },
      retried: { started_by: p('bob'), retryOf: 'chained' },
      forked: { started_by: p('carol', 'cli'), forked_from: { run: 'retried', step: 's' } },
      again: { started_by: p('alice'), retryOf: 'forked', parentRunId: 'gone' },
    });
    const people = await chainPeople(['again'], runs);
    expect(people.map((x) => x.subject)).toEqual(['alice', 'carol', 'bob', 'system:trigger/after_go', 'system:trigger/on_go']);
  });

  it('stops at a run that journaled its chain, and survives a loop of links', async () => {
    const stop = journal({ a: { started_by: p('dave'), chain_people: [p('erin')], retryOf: 'b' }, b: { started_by: p('frank') } });
    expect((await chainPeople(['a'], stop)).map((x) => x.subject)).toEqual(['dave', 'erin']);
    const loop = journal({ x: { started_by: p('gina'), retryOf: 'y' }, y: { started_by: p('hal'), retryOf: 'x' } });
    expect((await chainPeople(['x'], loop)).map((x) => x.subject)).toEqual(['gina', 'hal']);
  });

  it('a new run records its links, its cause, whether people bind it, and the chain (empty too) when it came from a run', async () => {
    const runs = journal({ first: { started_by: p('ivy'), caused_by: p('jo') } });
    expect(await startOrigin({ retryOf: 'first', forkedFrom: { run: 'first', step: 's' }, causedBy: p('kim'), peopleBound: true }, runs)).toEqual({
      caused_by: p('kim'),
      forked_from: { run: 'first', step: 's' },
      people_bound: true,
      chain_people: [p('ivy'), p('jo')],
    });
    expect(await startOrigin({ chainedFrom: 'pruned', peopleBound: false }, runs)).toEqual({ chained_from: 'pruned', people_bound: false, chain_people: [] });
    expect(await startOrigin({ peopleBound: false }, runs)).toEqual({ people_bound: false });
    // A sub-plan is bound as its parent is, with the parent's cause and chain behind it.
    expect(subplanOrigin({ caused_by: p('kim'), people_bound: true, chain_people: [p('ivy')] })).toEqual({ people_bound: true, chain_people: [p('kim'), p('ivy')] });
  });

  it('a run that came from a run bound to people is bound too, whatever the config where it starts (approvals stay bound, §9.1)', async () => {
    const runs = journal({ bound: { started_by: p('ivy'), people_bound: true }, behind: { started_by: p('jo'), retryOf: 'bound' }, free: { started_by: p('kim'), people_bound: false } });
    expect(await startOrigin({ retryOf: 'bound', peopleBound: false }, runs)).toMatchObject({ people_bound: true });
    expect(await startOrigin({ forkedFrom: { run: 'bound', step: 's' }, peopleBound: false }, runs)).toMatchObject({ people_bound: true });
    // Transitively, through a run that did not record whether it was bound (before v0.4).
    expect(await startOrigin({ chainedFrom: 'behind', peopleBound: false }, runs)).toMatchObject({ people_bound: true });
    expect(await startOrigin({ retryOf: 'free', peopleBound: false }, runs)).toMatchObject({ people_bound: false });
  });
});
