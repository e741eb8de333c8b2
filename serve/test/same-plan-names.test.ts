/**
 * Two served modules that both declare `plan greet` (`orch serve main.orch a.orch b.orch`): each
 * is served under a name that tells them apart — `greet` (the first) and `b.greet`, as the IR
 * names a clashing sub-plan — `POST /runs` and a trigger start the one named, and `after a.greet`
 * fires only for a's runs. Before, serve loaded one `greet` and `after a.greet` fired for b's.
 * Through one in-process server (real compiler, trigger engine, runtime, SQLite journal).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunStarter } from '../run-starter.js';
import type { BuiltServer } from '../server.js';
import { closeServer, waitFor } from './http-helpers.js';
import { startInProcess } from './in-process-server.js';

const TOKEN = 'same-plan-names-token';

const MAIN = `
module main
import "./common.orch" as common
import "./a.orch" as a
import "./b.orch" as b

plan rep {
  step x = common.echo(value: "rep")
}

trigger after_a { after a.greet completed run rep }
trigger greet_b { manual run b.greet }
`;
const greet = (m: string) => `
module ${m}
import "./common.orch" as common

plan greet {
  step x = common.echo(value: "${m}")
  output { who: x.output.value }
}
`;

let server: BuiltServer;
let app: FastifyInstance;
let starter: RunStarter;

beforeAll(async () => {
  ({ server, app, starter } = await startInProcess('orch-same-plan-names-', { 'main.orch': MAIN, 'a.orch': greet('a'), 'b.orch': greet('b') }, ['main.orch', 'a.orch', 'b.orch'], TOKEN));
}, 60_000);

afterAll(() => closeServer(server, starter));

const post = async (url: string, body?: object) => {
  const r = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TOKEN}` }, ...(body ? { payload: body } : {}) });
  expect(r.statusCode, r.body).toBe(202);
  return (r.json() as { runId: string }).runId;
};
const completed = (runId: string) =>
  waitFor(async () => {
    const r = await starter.get(runId);
    return r?.status === 'completed' ? r : undefined;
  }, 20_000, `${runId} to complete`);
const chainedFrom = async (runId: string) => ((await starter.timeline(runId)) ?? [])[0]?.chained_from;

describe('orch serve: plans of one name in two served modules', () => {
  it('serves both, the later one under its qualified name', () => {
    expect(server.engine.planNames()).toEqual(['b.greet', 'greet', 'rep']);
  });

  it('POST /runs and a trigger start the plan they name', async () => {
    expect((await completed(await post('/runs', { plan: 'greet' }))).output).toEqual({ who: 'a' });
    expect((await completed(await post('/runs', { plan: 'b.greet' }))).output).toEqual({ who: 'b' });
    expect((await completed(await post('/runs', { plan: 'a.greet' }))).output).toEqual({ who: 'a' });
    expect((await completed(await post('/triggers/greet_b/fire'))).output).toEqual({ who: 'b' });
  });

  it('after a.greet fires for a run of a.greet, not of b.greet', async () => {
    const bRun = await post('/runs', { plan: 'b.greet' });
    await completed(bRun);
    const aRun = await post('/runs', { plan: 'greet' });
    await completed(aRun);
    // The chain from a's run is the witness that both ends were seen: b's ended first.
    await waitFor(async () => {
      for (const r of await starter.list()) if (r.planId === 'rep' && (await chainedFrom(r.runId)) === aRun) return true;
      return undefined;
    }, 20_000, 'the run chained from a.greet');
    const reps = (await starter.list()).filter((r) => r.planId === 'rep');
    const from = await Promise.all(reps.map((r) => chainedFrom(r.runId)));
    expect(from).not.toContain(bRun);
  });

  it("an upgrade checks a run against its own module's plan", async () => {
    const bRun = await post('/runs', { plan: 'b.greet' });
    await completed(bRun);
    const r = await app.inject({ method: 'GET', url: `/runs/${bRun}/upgrade`, headers: { authorization: `Bearer ${TOKEN}` } });
    const report = r.json() as { fromHash: string; toHash: string };
    expect(report.toHash).toBe(report.fromHash);
  });
});
