/**
 * A reader that stops early (`orch help check | head -1`) closes the pipe under the CLI. That ends
 * the output quietly: no "write EPIPE" stack trace, the command's own exit code. The tests close
 * the pipe before the CLI writes anything, so every write fails.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/orch.js', import.meta.url));

/** Runs `orch ARGS` with its stdout closed from the start. */
function unread(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a closed output pipe', () => {
  it('ends help output without a stack trace', async () => {
    const r = await unread(['help', 'run']);
    expect(r.stderr).not.toMatch(/EPIPE|at .*\(|node:events/);
    expect(r.code).toBe(0);
  });

  it('ends long diagnostics output without a stack trace', async () => {
    const r = await unread(['check', fileURLToPath(new URL('../../examples/campaign_launch/campaign.orch', import.meta.url)), '--format', 'sarif']);
    expect(r.stderr).not.toMatch(/EPIPE|at .*\(|node:events/);
    expect([0, 1]).toContain(r.code);
  });
});
