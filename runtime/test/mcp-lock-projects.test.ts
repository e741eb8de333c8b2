/**
 * `orch mcp lock` starts the servers that the project's `import mcp` declarations name (LANGUAGE.md
 * §8.3) — the project's, not those of a folder inside it that is a project of its own (its own
 * orch.config.json): the compiler reads that folder's files against its own config and lock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importedServers } from '../mcp/lock.js';
import { lockProject } from '../index.js';
import { tempDir } from './helpers.js';

describe('the servers orch mcp lock starts', () => {
  it("are the project's imports, not those of a nested project", async () => {
    const root = tempDir('orch-lock-');
    writeFileSync(join(root, 'orch.config.json'), JSON.stringify({ mcp: {} }));
    writeFileSync(join(root, 'a.orch'), 'import mcp "mine" as m\nplan p { step s = m.t() }\n');
    mkdirSync(join(root, 'plans'));
    writeFileSync(join(root, 'plans', 'b.orch'), 'import mcp "also_mine" as m\nplan q { step s = m.t() }\n');
    const other = join(root, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'orch.config.json'), JSON.stringify({ mcp: { theirs: { command: 'false' } } }));
    writeFileSync(join(other, 'c.orch'), 'import mcp "theirs" as t\nplan r { step s = t.t() }\n');

    expect(importedServers(root)).toEqual(['also_mine', 'mine']);
    // Locking the project names only its own servers (here unconfigured), never "theirs".
    const locked = await lockProject(root);
    expect(locked.failed.map((f) => f.server).sort()).toEqual(['also_mine', 'mine']);
    expect(importedServers(other)).toEqual(['theirs']);
  });
});
