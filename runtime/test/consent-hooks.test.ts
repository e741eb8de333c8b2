/**
 * Consent and policy hooks with the real CLI (LANGUAGE.md §7.2, §7.3): under `require_consent
 * true` a run missing a scope fails before any step runs, naming the scopes (`consent_denied`);
 * scopes granted by `--consent` or the config let it run and are journaled; a preExecution hook
 * sees evaluated arguments (secrets as `***`), the input, the context and the grants, and can deny
 * a step by inspecting its arguments.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../backend/sqlite/driver.js';
import { orch, projectDir } from './helpers.js';

const SOURCE = `
capability record_vitals {
  kind tool
  input { log: string, target: string, token: string }
  handler "./handlers.js#work"
  consent "health_data"
}
capability notify {
  kind tool
  input { log: string }
  handler "./handlers.js#work"
  consent "messaging"
}
policy careful {
  strategy cost
  require_consent true
}
plan vitals {
  policy careful
  input { log: string, target: string }
  step a = record_vitals(log: input.log, target: input.target, token: secret("API_TOKEN"))
  step b = notify(log: input.log) { after a }
}
`;

function setup(config: string): { dir: string; log: string; db: string } {
  const dir = projectDir(null);
  writeFileSync(join(dir, 'orch.config.mjs'), config);
  writeFileSync(join(dir, 'main.orch'), SOURCE);
  const log = join(dir, 'calls.log');
  return { dir, log, db: join(dir, 'runs.db') };
}

function events(db: string): { type: string; data: Record<string, unknown> }[] {
  const d = openSqlite(db, { readonly: true });
  const rows = d.prepare('SELECT type, data FROM events ORDER BY run_id, seq').all() as { type: string; data: string }[];
  d.close();
  return rows.map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }));
}

const ENV = { API_TOKEN: 'tok-very-secret-123' };

describe('consent', () => {
  it('a missing scope fails the run before any step runs, naming the missing scopes', () => {
    const { dir, log, db } = setup('export default {};');
    const r = orch(['run', 'main.orch', '--db', db, '--json', '--consent', 'health_data', '--input', JSON.stringify({ log, target: 'dev' })], dir, ENV);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as { status: string; error: string; steps: { status: string }[]; metadata: { totalDuration: number; cancelledSteps: number } };
    expect(result.status).toBe('failed');
    expect(result.error).toContain('consent not granted: messaging');
    // Steps that never started in a failed run are cancelled; the run began when it was created.
    expect(result.steps.length).toBeGreaterThan(0);
    expect(result.steps.every((s) => s.status === 'cancelled')).toBe(true);
    expect(result.metadata.cancelledSteps).toBe(result.steps.length);
    expect(result.metadata.totalDuration).toBeGreaterThanOrEqual(0);
    expect(existsSync(log)).toBe(false);
    const ev = events(db);
    const denied = ev.find((e) => e.type === 'consent_denied')!;
    expect(denied.data).toMatchObject({ missing: ['messaging'], granted: ['health_data'] });
    expect(ev.some((e) => e.type === 'step_started')).toBe(false);
  });

  it('scopes granted by --consent and the config let it run; the journal records the grants', () => {
    const { dir, log, db } = setup('export default { consent: ["messaging"] };');
    const r = orch(['run', 'main.orch', '--db', db, '--json', '--consent', 'health_data', '--input', JSON.stringify({ log, target: 'dev' })], dir, ENV);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
    const created = events(db).find((e) => e.type === 'plan_created')!;
    expect(created.data.consent).toEqual(['health_data', 'messaging']);
  });

  it('--consent repeated adds its scopes, as one comma-separated list does', () => {
    const { dir, log, db } = setup('export default {};');
    const r = orch(['run', 'main.orch', '--db', db, '--json', '--consent', 'health_data', '--consent', 'messaging', '--input', JSON.stringify({ log, target: 'dev' })], dir, ENV);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(events(db).find((e) => e.type === 'plan_created')!.data.consent).toEqual(['health_data', 'messaging']);
  });
});

describe('policy hooks', () => {
  const HOOK = (seen: string) => `
import { appendFileSync } from 'node:fs';
export default {
  consent: ['health_data', 'messaging'],
  preExecution(step, ctx) {
    appendFileSync(${JSON.stringify(seen)}, JSON.stringify({ step: step.stepId, args: step.input, ctx }) + '\\n');
    if (step.input && step.input.target === 'prod') return { allow: false, reason: 'no writes to prod' };
    return { allow: true };
  },
};`;

  it('see evaluated arguments with secrets as ***, the input, the context and the grants', () => {
    const { dir, log, db } = setup('');
    const seen = join(dir, 'seen.log');
    writeFileSync(join(dir, 'orch.config.mjs'), HOOK(seen));
    const r = orch(['run', 'main.orch', '--db', db, '--json', '--context', '{"mood":"calm"}', '--input', JSON.stringify({ log, target: 'dev' })], dir, ENV);
    expect(r.code, r.stderr).toBe(0);
    const first = JSON.parse(readFileSync(seen, 'utf8').split('\n')[0]!) as { step: string; args: Record<string, unknown>; ctx: Record<string, unknown> };
    expect(first.step).toBe('a');
    expect(first.args).toEqual({ log, target: 'dev', token: '***' });
    expect(first.ctx).toMatchObject({ plan: 'vitals', input: { log, target: 'dev' }, context: { mood: 'calm' }, consent: ['health_data', 'messaging'] });
    expect(readFileSync(seen, 'utf8')).not.toContain(ENV.API_TOKEN);
  });

  it('deny a step by inspecting its arguments', () => {
    const { dir, log, db } = setup('');
    writeFileSync(join(dir, 'orch.config.mjs'), HOOK(join(dir, 'seen.log')));
    const r = orch(['run', 'main.orch', '--db', db, '--json', '--input', JSON.stringify({ log, target: 'prod' })], dir, ENV);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as { status: string; error: string };
    expect(result.status).toBe('failed');
    expect(result.error).toContain('no writes to prod');
    expect(existsSync(log)).toBe(false);
  });

  it("never journal a secret the plan names, even one a failing hook's error shows before its step resolved it", () => {
    const { dir, log, db } = setup('');
    writeFileSync(
      join(dir, 'orch.config.mjs'),
      `export default { hooks: { preExecution() { throw new Error('cannot check with ' + process.env.API_TOKEN); } } };`,
    );
    const r = orch(['run', 'main.orch', '--db', db, '--json', '--consent', 'health_data,messaging', '--input', JSON.stringify({ log, target: 'dev' })], dir, ENV);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { error: string }).error).toContain('preExecution hook failed: cannot check with ***');
    expect(r.stdout + r.stderr).not.toContain(ENV.API_TOKEN);
    expect(JSON.stringify(events(db))).not.toContain(ENV.API_TOKEN);
    expect(JSON.stringify(events(db))).toContain('cannot check with ***');
  });
});
