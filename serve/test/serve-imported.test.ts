/**
 * A trigger may run a plan declared in an imported file (`run other.greet` with
 * `import "./imported.orch" as other`): a real `orch serve` compiles that plan from its module
 * and runs it when the trigger fires.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, waitFor } from './http-helpers.js';
import { startServe, tempDir, TOKEN, type ServeProcess } from './serve-process.js';

let serve: ServeProcess;
const call = (method: string, path: string, body?: unknown) => http(serve.url, method, path, { token: TOKEN, body });

beforeAll(async () => {
  serve = await startServe(['imported-trigger.orch'], { db: join(tempDir(), 'runs.db') });
});
afterAll(async () => {
  const code = await serve?.stop();
  expect(code).toBe(0);
});

describe('orch serve: a trigger running an imported plan', () => {
  it('activates the trigger (no "not compiled" warning) and lists the imported plan', () => {
    const out = serve.stdout() + serve.stderr();
    expect(out).not.toMatch(/not compiled/);
    expect(out).toMatch(/greet_other .*serve_imported\.greet/);
  });

  it('an event runs the imported plan with the input built from the event', async () => {
    const r = await call('POST', '/events', { type: 'greet', name: 'Ada' });
    expect(r.status).toBe(202);
    expect(r.json.results).toEqual([{ trigger: 'greet_other', outcome: 'started', runId: expect.any(String) }]);
    const result = await waitFor(async () => {
      const x = await call('GET', `/runs/${r.json.results[0].runId}`);
      return ['completed', 'failed', 'cancelled', 'timeout'].includes(x.json?.status) ? x.json : undefined;
    }, 30_000, 'the run to finish');
    expect(result.planId).toMatch(/greet$/);
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ greeting: 'hello Ada' });
  });
});
