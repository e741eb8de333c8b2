/**
 * Where a run came from (LANGUAGE.md §9.1): the people `not_starter` keeps from deciding its
 * approvals are its starter and everyone in the chain of runs it came from — an `after` chain, a
 * sub-plan's parent, a retried or forked run — whoever started or caused any of them.
 *
 * The chain is walked once, when the run starts, and journaled with it (`chain_people`), so the
 * rule needs no journal at decision time, holds in the pure scheduler core on every process, and
 * survives `orch runs prune` of the older runs. A run that journaled its chain is not walked
 * past: its list already holds everyone behind it.
 */
import { starterOf, type Identity, type Starter } from './identity.js';
import { chainOf, distinctPeople, type RunOrigin } from '../scheduler/core/run-origin.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const runId = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Every way a run names the run it came from, as a `plan_created` field and how to read the run
 * id out of it. A new kind of link is one line here.
 */
export const CHAIN_LINKS: readonly { readonly field: string; readonly run: (value: unknown) => string | null }[] = [
  { field: 'chained_from', run: runId },
  { field: 'parentRunId', run: runId },
  { field: 'retryOf', run: runId },
  { field: 'forked_from', run: (v) => (isObject(v) ? runId(v.run) : null) },
];

/** The runs a `plan_created`'s data links to. */
export function linkedRuns(data: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const link of CHAIN_LINKS) {
    const id = Object.hasOwn(data, link.field) ? link.run(data[link.field]) : null;
    if (id !== null && !out.includes(id)) out.push(id);
  }
  return out;
}

/** Everyone a run's start names: its starter, who caused it, and the chain it recorded. */
function peopleOf(origin: RunOrigin): Starter[] {
  return [...(origin.started_by ? [origin.started_by] : []), ...chainOf(origin)];
}

/** How many runs one walk reads at most: a chain is short; a loop of links or a huge one is cut here. */
const MAX_RUNS = 256;

/**
 * Everyone in the chain behind the runs `links` names (the new run's own links): each linked
 * run's starter and cause, and — for a run that recorded its chain — that chain, else the runs
 * it links to in turn. `origin(id)` reads a run's `plan_created` data (null: no such run any more).
 */
export async function chainPeople(links: readonly string[], origin: (runId: string) => Promise<Readonly<Record<string, unknown>> | null>): Promise<Starter[]> {
  return (await walkChain(links, origin)).people;
}

/**
 * The walk behind `chainPeople`, which also tells whether any run read was bound to people: a run
 * that comes from one is bound as well (§9.1: its approvals stay bound), whatever the config where
 * it starts — a retry or a fork from a directory without the `auth` block included.
 */
async function walkChain(
  links: readonly string[],
  origin: (runId: string) => Promise<Readonly<Record<string, unknown>> | null>,
): Promise<{ people: Starter[]; bound: boolean }> {
  const seen = new Set<string>();
  const queue = [...links];
  const people: Starter[] = [];
  let bound = false;
  while (queue.length > 0 && seen.size < MAX_RUNS) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const data = await origin(id);
    if (data === null) continue;
    const o = data as RunOrigin;
    people.push(...peopleOf(o));
    if (o.people_bound === true) bound = true;
    if (o.chain_people === undefined) queue.push(...linkedRuns(data));
  }
  return { people: distinctPeople(people), bound };
}

/** What starting a run says about where it comes from (`Runtime.start`'s options). */
export interface OriginRequest {
  readonly causedBy?: Identity | Starter | null;
  readonly chainedFrom?: string;
  /** The trigger starting the run (`null`: none), journaled as `plan_created.trigger`. */
  readonly trigger?: string | null;
  readonly retryOf?: string;
  readonly forkedFrom?: { readonly run: string; readonly step: string };
  readonly peopleBound: boolean;
}

/**
 * What a new run records of where it came from, besides its starter: its cause, its links, its
 * binding (bound where people are configured, or when a run behind it was), and — when it came from another run — everyone in that chain (`chain_people`, an
 * empty list too, so a later walk stops here). `origin(id)` as for `chainPeople`.
 */
export async function startOrigin(r: OriginRequest, origin: (runId: string) => Promise<Readonly<Record<string, unknown>> | null>): Promise<Omit<RunOrigin, 'started_by'>> {
  const links = [r.chainedFrom, r.retryOf, r.forkedFrom?.run].filter((id): id is string => typeof id === 'string' && id !== '');
  const chain = links.length > 0 ? await walkChain(links, origin) : null;
  return {
    ...(r.causedBy ? { caused_by: starterOf(r.causedBy) } : {}),
    ...(r.chainedFrom ? { chained_from: r.chainedFrom } : {}),
    ...(r.trigger !== undefined ? { trigger: r.trigger } : {}),
    ...(r.forkedFrom ? { forked_from: r.forkedFrom } : {}),
    people_bound: r.peopleBound || chain?.bound === true,
    ...(chain ? { chain_people: chain.people } : {}),
  };
}

/** The origin a sub-plan's run records: bound as its parent is, with everyone in its parent's chain behind it. */
export function subplanOrigin(parent: Omit<RunOrigin, 'started_by'>): Omit<RunOrigin, 'started_by'> {
  return { ...(parent.people_bound !== undefined ? { people_bound: parent.people_bound } : {}), chain_people: chainOf(parent) };
}
