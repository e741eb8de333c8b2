/**
 * LANGUAGE.md §9.3, "every use is journaled (`endorsed`) with its reason and listed by `orch
 * preview`", on a trigger's `with`: the value a trigger endorses or declassifies to give the plan
 * its input is used each time the trigger fires, so each run it starts journals it (after its
 * `plan_created`, attempt 0, no step's) — through the real compiler, trigger engine, runtime and
 * SQLite journal of one in-process server. Before, neither the run nor the preview said so.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, openBackend } from '../../runtime/index.js';
import { loadServeProgram } from '../load.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { closeServer, waitFor } from './http-helpers.js';
import { tempDir } from './serve-process.js';

const TOKEN = 'trigger-relabels-token';
const FIXTURES = join(import.meta.dirname, 'fixtures');

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

beforeAll(async () => {
  const dir = tempDir('orch-trigger-relabels-');
  const db = join(dir, 'runs.db');
  for (const f of ['common.orch', 'handlers.js']) copyFileSync(join(FIXTURES, f), join(dir, f));
  writeFileSync(join(dir, 'paths.orch'), SOURCE);
  const out = loadServeProgram([join(dir, 'paths.orch')]);
  expect(out.errors).toEqual([]);
  expect(out.triggers.find((t) => t.name === 'by_hand')?.relabels).toEqual([
    { kind: 'endorse', reason: 'the operator typed it' },
    { kind: 'declassify', reason: 'a first name only', to: 'internal' },
  ]);
  expect(out.triggers.find((t) => t.name === 'as_is')?.relabels).toBeUndefined();
  starter = await openRuntimeStarter({ backend: await openBackend(db), plans: [...out.plans], log: () => {} });
  server = await buildServer({
    plans: [...out.plans],
    triggers: out.triggers,
    starter,
    evaluate: (expr, scope) => evaluate(expr, { vars: { event: scope.event ?? null, context: scope.context } }),
    state: await (await openBackend(db)).triggerState(),
    token: TOKEN,
  });
  app = server.app;
  await app.ready();
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
