/**
 * LANGUAGE.md §9.3, "every use is journaled (`endorsed`) with its reason and listed by `orch
 * preview`", on a trigger's `with`: the value a trigger endorses or declassifies to give the plan
 * its input is used each time the trigger fires, so each run it starts journals it (after its
 * `plan_created`, attempt 0, no step's) — through the real compiler, trigger engine, runtime and
 * SQLite journal of one in-process server. Before, neither the run nor the preview said so.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeProgram } from '../load.js';
import type { RunStarter } from '../run-starter.js';
import type { BuiltServer } from '../server.js';
import { closeServer, waitFor } from './http-helpers.js';
import { startInProcess } from './in-process-server.js';

const TOKEN = 'trigger-relabels-token';

const SOURCE = `
module relabel_paths
import "./common.orch" as common

context { note: string @untrusted @personal }

plan tagged {
  input { note: string @trusted }
  step x = common.echo(value: input.note)
}
plan plain {
  step x = common.echo(value: "x")
}

trigger by_hand { manual run tagged with { note: declassify(endorse(context.note ?? "none", reason: "the operator typed it"), reason: "a first name only") } }
trigger as_is { manual run plain }
`;

let server: BuiltServer;
let app: FastifyInstance;
let starter: RunStarter;
let program: ServeProgram;

beforeAll(async () => {
  ({ server, app, starter, program } = await startInProcess('orch-trigger-relabels-', { 'paths.orch': SOURCE }, ['paths.orch'], TOKEN));
  expect(program.triggers.find((t) => t.name === 'by_hand')?.relabels).toEqual([
    { kind: 'endorse', reason: 'the operator typed it' },
    { kind: 'declassify', reason: 'a first name only', to: 'internal' },
  ]);
  expect(program.triggers.find((t) => t.name === 'as_is')?.relabels).toBeUndefined();
}, 60_000);

afterAll(() => closeServer(server, starter));

const fire = async (name: string): Promise<string> => {
  const r = await app.inject({ method: 'POST', url: `/triggers/${name}/fire`, headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.statusCode).toBe(202);
  return (r.json() as { runId: string }).runId;
};
const completed = (runId: string) =>
  waitFor(async () => {
    const events = (await starter.timeline(runId)) ?? [];
    return events.some((e) => e.type === 'execution_completed') ? events : undefined;
  }, 20_000, `${runId} to complete`);

describe("a trigger's with: its endorse and declassify calls are journaled in each run it starts (§9.3)", () => {
  it('after plan_created, attempt 0, no step; once per run', async () => {
    for (let n = 0; n < 2; n++) {
      const events = await completed(await fire('by_hand'));
      const relabels = events.filter((e) => e.type === 'endorsed' || e.type === 'declassified');
      // The timeline's entries carry the event's data as their own fields.
      expect(relabels).toEqual([
        expect.objectContaining({ type: 'endorsed', stepId: null, reason: 'the operator typed it', attempt: 0 }),
        expect.objectContaining({ type: 'declassified', stepId: null, reason: 'a first name only', to: 'internal', attempt: 0 }),
      ]);
      expect(events.indexOf(relabels[0]!)).toBe(1);
    }
  });

  it('a trigger without any journals none', async () => {
    const events = await completed(await fire('as_is'));
    expect(events.filter((e) => e.type === 'endorsed' || e.type === 'declassified')).toEqual([]);
  });
});
