import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { format } from '../../language/index.js';
import { orch } from '../../examples/test/cli.js';
import { runCli } from '../../test/support/cli-in-process.js';

/** `orch init` writes files: the CLI core in this process does (runCli); one test spawns the real CLI end to end. */
const cli = (args: readonly string[]) => runCli(args, process.cwd());

function freshDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'orch-init-'));
}

describe('orch init', () => {
  it('scaffolds a plan, a handler, input, config and .gitignore, and prints next steps', async () => {
    const dir = path.join(freshDir(), 'my-project');
    const r = await cli(['init', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const file of ['hello.orch', 'handlers/greet.mjs', 'input.json', 'orch.config.json', '.gitignore']) {
      expect(existsSync(path.join(dir, file)), file).toBe(true);
    }
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\.orch\/$/m);
    expect(JSON.parse(readFileSync(path.join(dir, 'input.json'), 'utf8'))).toEqual({ name: 'Ada' });
    expect(JSON.parse(readFileSync(path.join(dir, 'orch.config.json'), 'utf8'))).toEqual({ secrets: {} });
    expect(r.stdout).toContain('Next steps:');
    expect(r.stdout).toContain(`cd ${dir}`);
    expect(r.stdout).toContain('orch run hello.orch --input @input.json');

    // The handler named in the plan exists and returns the declared output shape.
    const plan = readFileSync(path.join(dir, 'hello.orch'), 'utf8');
    expect(plan).toContain('handler "./handlers/greet.mjs#greet"');
    expect(format('hello.orch', plan).changed, 'the scaffold is in the canonical format').toBe(false);
    const handlers = (await import(path.join(dir, 'handlers/greet.mjs'))) as Record<string, (i: unknown) => Promise<unknown>>;
    expect(await handlers.greet!({ name: 'Ada' })).toEqual({ message: 'Hello, Ada!', length: 11 });
    expect(await handlers.shout!({ text: 'hi' })).toEqual({ banner: '*** HI ***' });
  });

  it('defaults to the current directory', async () => {
    const dir = freshDir();
    const r = await runCli(['init'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created an Orch project in the current directory');
    expect(r.stdout).not.toContain('cd ');
    expect(existsSync(path.join(dir, 'hello.orch'))).toBe(true);
  });

  it('refuses to overwrite: exit 2, one clear line, and nothing written', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, 'hello.orch'), '// mine\n');
    const r = await cli(['init', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^orch: refusing to overwrite existing file\(s\) in '.*': hello\.orch\n$/);
    expect(readFileSync(path.join(dir, 'hello.orch'), 'utf8')).toBe('// mine\n');
    expect(readdirSync(dir)).toEqual(['hello.orch']);
  });

  it('running twice fails the second time and leaves the first scaffold intact', async () => {
    const dir = freshDir();
    expect((await cli(['init', dir])).code).toBe(0);
    const before = readFileSync(path.join(dir, 'hello.orch'), 'utf8');
    const r = await cli(['init', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('hello.orch, handlers/greet.mjs, input.json, orch.config.json');
    expect(readFileSync(path.join(dir, 'hello.orch'), 'utf8')).toBe(before);
  });

  it('keeps an existing .gitignore and appends .orch/ once', async () => {
    const dir = freshDir();
    writeFileSync(path.join(dir, '.gitignore'), 'node_modules');
    const r = await cli(['init', dir]);
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules\n.orch/\n');
    expect(r.stdout).toContain('.gitignore (kept; added .orch/)');
  });

  it("approves better-sqlite3's install script in an existing package.json, and keeps any decision already there", async () => {
    const project = (pkg: string): string => {
      const dir = freshDir();
      writeFileSync(path.join(dir, 'package.json'), pkg);
      return dir;
    };
    const read = (dir: string) => readFileSync(path.join(dir, 'package.json'), 'utf8');

    const fresh = project('{\n    "name": "shop",\n    "allowScripts": { "esbuild": true },\n    "devDependencies": { "orch": "file:orch-0.1.0.tgz" }\n}\n');
    const r = await cli(['init', fresh]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("package.json (kept; allowScripts approves better-sqlite3's native build");
    expect(read(fresh)).toBe(
      '{\n    "name": "shop",\n    "allowScripts": {\n        "esbuild": true,\n        "better-sqlite3": true\n    },\n    "devDependencies": {\n        "orch": "file:orch-0.1.0.tgz"\n    }\n}\n',
    );

    for (const decided of ['{"allowScripts":{"better-sqlite3":false}}', '{"allowScripts":{"better-sqlite3@12.11.1":true}}']) {
      const dir = project(decided);
      const again = await cli(['init', dir]);
      expect(again.stdout).toContain('package.json (kept; allowScripts already decides on better-sqlite3)');
      expect(read(dir)).toBe(decided);
    }

    const broken = project('{ "name": ');
    const kept = await cli(['init', broken]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('package.json (kept; not valid JSON');
    expect(read(broken)).toBe('{ "name": ');

    // No package.json: none is made (Orch may be installed globally or run from a clone).
    const bare = freshDir();
    expect((await cli(['init', bare])).stdout).not.toContain('package.json');
    expect(existsSync(path.join(bare, 'package.json'))).toBe(false);
  });

  it('rejects a target that is a file', async () => {
    const dir = freshDir();
    const file = path.join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const r = await cli(['init', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^orch: '.*not-a-dir' exists and is not a directory\n$/);
  });

  // End to end: the real CLI, spawned.
  it('creates a project that checks, runs to completion and verifies', () => {
    const dir = path.join(freshDir(), 'starter');
    expect(orch(['init', dir]).code).toBe(0);

    const check = orch(['check', 'hello.orch'], { cwd: dir });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);

    const run = orch(['run', 'hello.orch', '--input', '@input.json', '--json'], { cwd: dir });
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { status: string; output: unknown };
    expect(result.status).toBe('completed');
    expect(result.output).toEqual({ message: 'Hello, Ada!', banner: '*** HELLO, ADA! ***' });
    // The journal lands where the scaffolded .gitignore expects it.
    expect(existsSync(path.join(dir, '.orch'))).toBe(true);

    const verify = orch(['verify', 'hello.orch', '--runs', '50', '--seed', '3'], { cwd: dir });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('banner_after_greeting');
  });

  it('explains itself with --help', async () => {
    const r = await cli(['init', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Never overwrites files');
  });
});

