/**
 * An orch.config of the wrong shape is an error naming the file and the key, never accepted in
 * silence, and the message never carries a secret's value.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { tempDir } from './helpers.js';

async function problem(name: string, text: string): Promise<string> {
  const dir = tempDir('orch-config-shape-');
  writeFileSync(join(dir, name), text);
  return loadConfig(dir).then(
    () => 'accepted',
    (err: Error) => err.message,
  );
}

describe('the shape of orch.config', () => {
  it('refuses secrets that are not an object of strings, without printing a value', async () => {
    expect(await problem('orch.config.json', '{"secrets": 5}')).toMatch(/orch\.config\.json: secrets must be an object/);
    expect(await problem('orch.config.json', '{"secrets": ["hunter2"]}')).toMatch(/secrets must be an object/);
    const nested = await problem('orch.config.json', '{"secrets": {"API_KEY": {"v": "hunter2"}}}');
    expect(nested).toMatch(/secrets\.API_KEY must be a string/);
    expect(nested).not.toContain('hunter2');
  });

  it('refuses an orch.config.js whose default export is not an object', async () => {
    expect(await problem('orch.config.js', 'export default 5;\n')).toMatch(/orch\.config\.js must hold an object/);
    expect(await problem('orch.config.mjs', 'export default {secrets: {A: "x"}};\n')).toBe('accepted');
  });
});
