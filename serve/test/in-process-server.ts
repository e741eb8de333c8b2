/**
 * One in-process server over modules written to a temporary directory beside the shared fixtures
 * (`common.orch`, `handlers.js`): the real compiler, trigger engine, runtime and SQLite journal,
 * reached through Fastify `inject`.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { evaluate, openBackend } from '../../runtime/index.js';
import { loadServeProgram, type ServeProgram } from '../load.js';
import type { RunStarter } from '../run-starter.js';
import { openRuntimeStarter } from '../runtime-starter.js';
import { buildServer, type BuiltServer } from '../server.js';
import { tempDir } from './serve-process.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

export interface InProcessServer {
  readonly program: ServeProgram;
  readonly server: BuiltServer;
  readonly app: FastifyInstance;
  readonly starter: RunStarter;
}

/** Writes `sources` (file name → text) and serves the `served` ones, in that order, with `token`. */
export async function startInProcess(prefix: string, sources: Readonly<Record<string, string>>, served: readonly string[], token: string): Promise<InProcessServer> {
  const dir = tempDir(prefix);
  const db = join(dir, 'runs.db');
  for (const f of ['common.orch', 'handlers.js']) copyFileSync(join(FIXTURES, f), join(dir, f));
  for (const [name, text] of Object.entries(sources)) writeFileSync(join(dir, name), text);
  const program = loadServeProgram(served.map((f) => join(dir, f)));
  expect(program.errors).toEqual([]);
  const starter = await openRuntimeStarter({ backend: await openBackend(db), plans: [...program.plans], log: () => {} });
  const server = await buildServer({
    plans: [...program.plans],
    triggers: program.triggers,
    starter,
    evaluate: (expr, scope) => evaluate(expr, { vars: { event: scope.event ?? null, context: scope.context } }),
    state: await (await openBackend(db)).triggerState(),
    token,
  });
  await server.app.ready();
  return { program, server, app: server.app, starter };
}
