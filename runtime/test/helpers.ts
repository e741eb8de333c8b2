/** Shared helpers of the runtime tests: fixture handlers, temp projects, the real CLI. */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CapabilityIR, PlanIR } from '../../compiler/index.js';
import { capability } from './ir-builder.js';
import { openBackend, type ClusterDatabase } from '../backend/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(REPO, 'bin', 'orch.js');

/** A capability whose handler is `export` of fixtures/handlers.js. */
export function fx(name: string, exportName: string, over: Partial<CapabilityIR> = {}): CapabilityIR {
  return capability(name, { handler: { module: join(FIXTURES, 'handlers.js'), export: exportName }, ...over });
}

export function tempDir(prefix = 'orch-rt-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A temp project (with an orch.config marker) holding a copy of the fixture handlers. */
export function projectDir(config: string | null = '{}', configName = 'orch.config.json'): string {
  const dir = tempDir('orch-proj-');
  copyFileSync(join(FIXTURES, 'handlers.js'), join(dir, 'handlers.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  if (config !== null) writeFileSync(join(dir, configName), config);
  return dir;
}

/** A capability using `export` of the project's copy of the fixture handlers. */
export function local(name: string, exportName: string, over: Partial<CapabilityIR> = {}): CapabilityIR {
  return capability(name, { handler: { module: './handlers.js', export: exportName }, ...over });
}

export function writePlan(dir: string, plan: PlanIR, name = 'plan.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(plan, null, 2));
  return file;
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function orch(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** CLI processes still running: a test that fails before its run ends must not leave one waiting forever. */
const live = new Set<ReturnType<typeof spawn>>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export function orchAsync(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const done = new Promise<CliResult>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** The step queue's connections on the cluster database `url` (what `orch worker` is given). */
export async function clusterDb(url: string): Promise<ClusterDatabase> {
  return (await openBackend(url)).cluster!;
}
