/**
 * Issue 34 item 1: a compiled plan names its handlers relative to its project, so the IR file
 * runs from any copy of the project (or apart from it, with `--project DIR`), and still cannot
 * load handlers from outside the project it runs in.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { loadPlan, portablePlan, Runtime } from '../index.js';
import { tempDir } from './helpers.js';

const SOURCE = `module hello
capability greet {
  kind tool
  input { name: string }
  output { message: string }
  handler "../handlers/greet.mjs#greet"
}
plan hello {
  input { name: string = "world" }
  step say = greet(name: input.name)
  output { message: say.output.message }
}
`;

/** A project with the plan in plans/ and its handler in handlers/. */
function project(): string {
  const dir = tempDir('orch-reloc-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'plans'));
  mkdirSync(join(dir, 'handlers'));
  writeFileSync(join(dir, 'plans', 'hello.orch'), SOURCE);
  writeFileSync(join(dir, 'handlers', 'greet.mjs'), 'export function greet(i) { return { message: `hello ${i.name}` }; }\n');
  return dir;
}

/** What `orch compile plans/hello.orch -o build/hello.json` writes. */
function compileTo(dir: string, out: string): void {
  const r = compile({ entry: join(dir, 'plans', 'hello.orch') });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(portablePlan(r.plans[0]!), null, 2));
}

const runtimes: Runtime[] = [];
afterAll(async () => {
  for (const rt of runtimes) await rt.close();
});

describe('relocatable IR', () => {
  it('names base_dir and source_file relative to the project', () => {
    const dir = project();
    const r = compile({ entry: join(dir, 'plans', 'hello.orch') });
    const ir = portablePlan(r.plans[0]!);
    expect(ir.base_dir).toBe('plans');
    expect(ir.source_file).toBe('plans/hello.orch');
  });

  it('compiled here, runs from a copy of the project', async () => {
    const dir = project();
    compileTo(dir, join(dir, 'build', 'hello.json'));
    const copy = join(tempDir('orch-reloc-copy-'), 'app');
    cpSync(dir, copy, { recursive: true });
    const loaded = await loadPlan(join(copy, 'build', 'hello.json'));
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    expect(loaded.plan.base_dir).toBe(join(copy, 'plans'));
    const rt = await Runtime.open({ db: join(copy, 'runs.db'), workers: 1 });
    runtimes.push(rt);
    const result = await (await rt.start(loaded.plan, { input: { name: 'copy' } })).result;
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ message: 'hello copy' });
  });

  it('an IR kept apart from its project runs with --project DIR, and only with it', async () => {
    const dir = project();
    const apart = join(tempDir('orch-reloc-apart-'), 'hello.json');
    compileTo(dir, apart);
    const without = await loadPlan(apart);
    expect(without.kind).toBe('usage');
    if (without.kind === 'usage') expect(without.message).toMatch(/--project DIR/);
    const loaded = await loadPlan(apart, undefined, { project: dir });
    if (loaded.kind !== 'plan') throw new Error(JSON.stringify(loaded));
    expect(loaded.plan.base_dir).toMatch(/plans$/);
  });

  it('keeps the security property: a base_dir leaving the project is refused, with or without --project', async () => {
    const dir = project();
    const file = join(dir, 'escape.json');
    compileTo(dir, file);
    const ir = JSON.parse(JSON.stringify(portablePlan(compile({ entry: join(dir, 'plans', 'hello.orch') }).plans[0]!))) as Record<string, unknown>;
    for (const base of ['..', '/', '../..']) {
      writeFileSync(file, JSON.stringify({ ...ir, base_dir: base }));
      for (const opts of [{}, { project: dir }, { project: join(dir, 'plans') }]) {
        const r = await loadPlan(file, undefined, opts);
        expect(r.kind, `${base} ${JSON.stringify(opts)}`).toBe('usage');
        if (r.kind === 'usage') expect(r.message).toMatch(/outside the project directory|does not exist/);
      }
    }
  });
});
