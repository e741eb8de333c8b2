/**
 * The check worker starts at `initialize`, before any file is opened: a file opened at once is
 * checked by it as soon as it is up (the request waits in its port meanwhile), and a server that
 * never opens a file still shuts down and exits.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, positionOf, TestClient } from './client.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'orch-lsp-worker-start-'));
  cpSync(FIXTURES, dir, { recursive: true });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the check worker started at initialize', () => {
  it('checks a file opened right after initialize, then its edits', async () => {
    const client = new TestClient();
    try {
      await client.initialize(dir);
      const good = readFileSync(join(dir, 'main.orch'), 'utf8');
      const bad = good.replace('summary = summarize(count: fetch.output.count)', 'summary = sumarize(count: fetch.output.count)');
      expect(bad).not.toBe(good);
      const uri = await client.open(join(dir, 'opened-at-once.orch'), bad);
      const first = await client.diagnosticsFor(uri, (d) => d.some((x) => x.code === 'E0101'));
      expect(first.find((d) => d.code === 'E0101')!.range.start).toEqual(positionOf(bad, 'sumarize('));
      // The fix, as one incremental change: the worker's kept parse and memo serve the re-check.
      const at = positionOf(bad, 'sumarize(');
      const version = await client.change(uri, [{ range: { start: at, end: { line: at.line, character: at.character + 'sumarize'.length } }, text: 'summarize' }]);
      const second = await client.diagnosticsFor(uri, (d) => !d.some((x) => x.code === 'E0101'), version);
      expect(second.map((d) => d.code)).not.toContain('E0101');
    } finally {
      await client.close();
    }
  });

  it('lets a server that never opened a file shut down and exit cleanly', async () => {
    const client = new TestClient();
    await client.initialize(dir);
    await client.request('shutdown');
    await client.connection.sendNotification('exit');
    expect(await client.exitCode).toBe(0);
    await client.close();
  });
});
