/**
 * Handler output (LANGUAGE.md §7.3) with the real CLI and real worker threads: what a handler
 * prints with console.log / process.stdout / process.stderr, and ctx.log, becomes `step_log`
 * journal events with secrets redacted, shown by `orch timeline`; none of it reaches orch's own
 * stdout, so `orch run --json` prints exactly one JSON document.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orch, projectDir } from './helpers.js';

const SECRET = 'sk-live-0123456789abcdef';

const HANDLERS = `
export async function leaky(input, ctx) {
  console.log('token is', input.token);
  console.error('also on stderr:', ctx.secrets.API_TOKEN);
  process.stdout.write('partial line without newline');
  ctx.log('via ctx.log');
  return { ok: true };
}
export async function after(input, ctx) {
  console.log('second step');
  return { ok: true };
}
`;

const SOURCE = `
capability leaky {
  kind tool
  input { token: string }
  handler "./out.js#leaky"
}
capability after {
  kind tool
  handler "./out.js#after"
}
plan noisy {
  step a = leaky(token: secret("API_TOKEN"))
  step b = after() { after a }
}
`;

describe('handler output', () => {
  it('never reaches orch stdout; becomes redacted step_log events shown by timeline', () => {
    const dir = projectDir();
    writeFileSync(join(dir, 'out.js'), HANDLERS);
    writeFileSync(join(dir, 'main.orch'), SOURCE);
    const r = orch(['run', 'main.orch', '--json', '--run-id', 'noisy-1'], dir, { API_TOKEN: SECRET });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string };
    expect(result.status).toBe('completed');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain('token is');
    expect(r.stderr).not.toContain(SECRET);

    const t = orch(['timeline', 'noisy-1', '--json'], dir);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).not.toContain(SECRET);
    const events = (JSON.parse(t.stdout) as { events: { type: string; stepId: string; data: { line: string } }[] }).events;
    const lines = events.filter((e) => e.type === 'step_log').map((e) => `${e.stepId}: ${e.data.line}`);
    expect(lines).toEqual([
      'a: token is ***',
      'a: [stderr] also on stderr: ***',
      'a: via ctx.log',
      'a: partial line without newline',
      'b: second step',
    ]);
    const text = orch(['timeline', 'noisy-1'], dir);
    expect(text.stdout).toMatch(/step_log\s+a\s+token is \*\*\*/);
  });
});
