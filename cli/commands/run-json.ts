/** Runs and events as `--json` prints them (`orch runs`, `orch timeline`, `orch runs export`, the MCP server's tools). */
import { irTextHash, type PlanIR } from '../../compiler/index.js';
import { JournalCorrupt, SecretView, type AsyncJournal, type RunEvent, type RunRow, type Starter } from '../../runtime/index.js';
import { planOfRun } from '../../serve/index.js';
import { requireRun } from '../db-option.js';

/**
 * The runs as `orch runs --json` (and the MCP server's `runs` tool) list them: each with its
 * version. A run whose journal cannot be read (`JournalCorrupt`) throws, or with `damaged` is
 * given to it and left out: one damaged run hides no other.
 */
export async function runEntries(j: AsyncJournal, rows: readonly RunRow[], damaged?: (err: JournalCorrupt) => void): Promise<RunListEntry[]> {
  const out: RunListEntry[] = [];
  for (const r of rows) {
    try {
      const first = await j.first(r.id);
      const created = first?.type === 'plan_created' ? first : undefined;
      const ir = r.parent_id === null ? ((await j.getRun(r.id))?.ir ?? null) : null;
      out.push(runListEntry(r, runVersion(ir, created), created?.data.started_by));
    } catch (err) {
      if (!damaged || !(err instanceof JournalCorrupt)) throw err;
      damaged(err);
    }
  }
  return out;
}

/**
 * The runs whose journal could not be read while listing (`JournalCorrupt`), each named once:
 * `orch runs` and the MCP server's `runs` tool leave them out of the list and say which they are.
 */
export class DamagedRuns {
  private readonly byRun = new Map<string, string>();
  readonly note = (err: JournalCorrupt): void => void (this.byRun.has(err.runId) || this.byRun.set(err.runId, err.message));
  has(runId: string): boolean {
    return this.byRun.has(runId);
  }
  get size(): number {
    return this.byRun.size;
  }
  /** As `--json` lists them: `{ runId, error }`. */
  list(): { runId: string; error: string }[] {
    return [...this.byRun].map(([runId, error]) => ({ runId, error }));
  }
  /** One warning line each, as stderr shows them. */
  warnings(): string[] {
    return [...this.byRun.values()].map((message) => `orch: warning: ${message}; left out of the list`);
  }
}

export type RunListEntry = ReturnType<typeof runListEntry>;

/** One run as `orch runs --json` lists it; `irHash` is its version (`runVersion`). */
function runListEntry(r: RunRow, irHash: string | null, startedBy: Starter | undefined) {
  return {
    runId: r.id,
    plan: r.plan,
    status: r.status,
    ...(startedBy ? { started_by: startedBy } : {}),
    startedAt: new Date(r.started_at).toISOString(),
    completedAt: r.completed_at === null ? null : new Date(r.completed_at).toISOString(),
    duration: r.completed_at === null ? null : r.completed_at - r.started_at,
    cost: r.cost,
    events: r.event_count ?? 0,
    irHash,
    ...(r.parent_id ? { parentRunId: r.parent_id } : {}),
  };
}

/**
 * A run's version (§8.6: every run records one): the SHA-256 of the IR its journal keeps now (`ir`:
 * the one `plan_created` named, or the last `orch upgrade` put in its place). A sub-plan run keeps
 * no IR of its own, so its version is the hash its `plan_created` recorded.
 */
function runVersion(ir: string | null, created: PlanCreated | undefined): string | null {
  return ir ? irTextHash(ir) : (created?.data.ir_hash ?? null);
}

type PlanCreated = Extract<RunEvent, { type: 'plan_created' }>;

/**
 * The currency each run's amounts are in, as `orch run`'s closing line writes them: its root
 * run's plan's (the cost budget's, which the IR keeps), for a sub-plan run too (a program has one
 * currency, §2); undefined when that plan has none. One IR read per root run.
 */
export async function runCurrencies(j: AsyncJournal, runIds: readonly string[]): Promise<Map<string, string | undefined>> {
  const byRoot = new Map<string, string | undefined>();
  const out = new Map<string, string | undefined>();
  for (const id of runIds) {
    const root = id.split('/')[0]!;
    if (!byRoot.has(root)) byRoot.set(root, currencyOfIr((await j.getRun(root))?.ir));
    out.set(id, byRoot.get(root));
  }
  return out;
}

function currencyOfIr(ir: string | null | undefined): string | undefined {
  if (!ir) return undefined;
  try {
    return (JSON.parse(ir) as PlanIR).policy?.currency;
  } catch {
    // A damaged IR is reported where it is read as a plan; here its amounts only stay bare.
    return undefined;
  }
}

/**
 * A run and its events as they are shown (`orch timeline`, the MCP server's `timeline` tool): a
 * value of class `secret` reads `***`. `orch runs export` is a backup and prints the journal as is.
 */
export function shownRunEvents(runId: string) {
  return async (j: AsyncJournal): Promise<{ row: RunRow; events: RunEvent[]; currency: string | undefined }> => {
    const row = await requireRun(j, runId);
    const events = await j.load(runId);
    const currency = (await runCurrencies(j, [runId])).get(runId);
    return { row, events: new SecretView(await planOfRun(row, (id) => j.getRun(id)), events).events(events), currency };
  };
}

/** A run's timeline as `orch timeline --json` (and the MCP server's `timeline` tool) give it. */
export function timelineJson(row: RunRow, events: readonly RunEvent[]) {
  const created = events.find((e): e is PlanCreated => e.type === 'plan_created');
  return { runId: row.id, plan: row.plan, status: row.status, irHash: runVersion(row.ir, created), events: events.map(eventJson) };
}

/**
 * An event as `--json` prints it: exactly the journal's envelope, which the published
 * `orch.events/v2` schema describes (`ts` in epoch milliseconds), so every printed event validates
 * against it as it stands.
 */
export function eventJson(e: RunEvent) {
  return { runId: e.runId, seq: e.seq, ts: e.ts, type: e.type, stepId: e.stepId, data: e.data };
}
