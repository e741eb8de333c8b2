/**
 * What a run's start says about where it came from (LANGUAGE.md §9.1), as the scheduler core
 * reads it to apply `not_starter`: the chain was walked and journaled when the run started
 * (`../../people/run-chain.ts`), so deciding needs nothing but these facts.
 */
import { type PersonRef, type Starter, samePerson } from './identity.js';

/** What a run's `plan_created` says about where it came from (the fields this module reads). */
export interface RunOrigin {
  readonly started_by?: Starter;
  readonly caused_by?: Starter;
  readonly chained_from?: string;
  /** The trigger that started the run, `null`: none did; absent: not said (`plan_created.trigger`). */
  readonly trigger?: string | null;
  readonly people_bound?: boolean;
  readonly chain_people?: readonly Starter[];
  /** §9.2: the run and step `orch fork` started this run from. */
  readonly forked_from?: { readonly run: string; readonly step: string };
}

/** `people` without repeats (the same subject and issuer once, first kept). */
export function distinctPeople<P extends PersonRef>(people: readonly P[]): P[] {
  const out: P[] = [];
  for (const p of people) if (!out.some((q) => samePerson(p, q))) out.push(p);
  return out;
}

/** The people a run's chain holds besides its starter: who caused it, and who is behind it. */
export function chainOf(origin: RunOrigin): Starter[] {
  return distinctPeople([...(origin.caused_by ? [origin.caused_by] : []), ...(origin.chain_people ?? [])]);
}
