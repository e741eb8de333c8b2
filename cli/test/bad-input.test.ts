/**
 * Hostile input to the CLI gives a clear usage error (exit 2, the file and what is wrong), never
 * a silent acceptance: `--context` of the wrong type, a source that is not UTF-8 text, a config
 * whose `secrets` is not an object. In-process CLI; nothing here runs a handler.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../serve/test/serve-process.js';
import { runCli } from '../../test/support/cli-in-process.js';

const PLAN = `plan p {
  step t = transform(value: 1)
  output { v: t.output.value }
}
`;

describe('bad input to the CLI', () => {
  it('orch run refuses a --context that is not a JSON object before it opens a journal', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    for (const ctx of ['"str"', '[1]']) {
      const r = await runCli(['run', 'p.orch', '--db', join(dir, 'runs.db'), '--context', ctx, '--quiet'], dir);
      expect(r.code, `${ctx}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('--context must be a JSON object');
    }
  });

  it('orch verify, test, run and serve reject a source that is not UTF-8 text, as orch check does', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'latin.orch'), Buffer.from('plan p {\n  goal "caf\xe9"\n}\n', 'latin1'));
    writeFileSync(join(dir, 'bin.orch'), Buffer.from([0xff, 0xfe, 0, 1, 0x41]));
    for (const args of [['verify', 'latin.orch'], ['test', 'latin.orch'], ['test', 'bin.orch'], ['run', 'latin.orch', '--db', join(dir, 'runs.db')], ['run', 'bin.orch'], ['serve', 'bin.orch', '--port', '0', '--db', join(dir, 'serve.db')]]) {
      const r = await runCli(args, dir);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/not valid UTF-8 text|binary file/);
    }
  });

  it('a config whose secrets is not an object is a usage error naming the file', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    writeFileSync(join(dir, 'orch.config.json'), '{"secrets": 5}');
    const r = await runCli(['run', 'p.orch', '--db', join(dir, 'runs.db'), '--quiet'], dir);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('orch.config.json');
    expect(r.stderr).toContain('secrets');
  });

  it('orch test of a project whose config does not load is a usage error (exit 2) naming the file, never the secret', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), `${PLAN}\ntest "t" {\n  plan p\n  expect run.status == "completed"\n}\n`);
    for (const config of ['{"secrets": {"TOK": "tok-2f9c81d7"}, "maxOutputBytes": -1}', '{"secrets": {"TOK": "tok-2f9c81d7", "N": [1]}}', '{"secrets": {"TOK": "tok-2f9c81d7"']) {
      writeFileSync(join(dir, 'orch.config.json'), config);
      const r = await runCli(['test', 'p.orch'], dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^orch: (?!internal error)[^\n]*orch\.config\.json[^\n]*\n$/);
      expect(r.stderr + r.stdout).not.toContain('tok-2f9c81d7');
    }
  });

  it('orch mcp lock refuses a file or a missing folder, and a --timeout that is not a number', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    for (const args of [['mcp', 'lock', 'p.orch'], ['mcp', 'lock', 'no such dir'], ['mcp', 'lock', '--timeout', 'abc']]) {
      const r = await runCli(args, dir);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).not.toContain('internal error');
    }
  });

  it('orch preview, graph and compile of a .json file say they take .orch source (exit 2), not a page of parse errors', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'plan.json'), '{"version": "orch.plan/v3"}');
    for (const cmd of ['preview', 'graph', 'compile']) {
      const r = await runCli([cmd, 'plan.json'], dir);
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr, cmd).toContain('plan.json: JSON, not .orch source');
      expect(r.stderr, cmd).not.toContain('E0001');
    }
  });

  it('a --input or --context that is not JSON is refused without quoting its text (it may hold a credential)', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), PLAN);
    writeFileSync(join(dir, 'in.json'), 'sk-live-SECRET123');
    for (const [flag, value] of [['--input', '@in.json'], ['--context', 'sk-live-SECRET123']] as const) {
      const r = await runCli(['run', 'p.orch', '--db', join(dir, 'runs.db'), flag, value], dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${flag} is not valid JSON`);
      expect(r.stderr).not.toContain('SECRET');
    }
  });
});

describe('orch preview --input reads the input as orch run does', () => {
  const TYPED = `plan p {
  input { n: int, price: money, wait_for: duration, share: percent, items: list<string> }
  step t = transform(value: input.price)
  output { v: t.output.value }
}
`;

  it('refuses an input that does not match the plan input, with the message orch run gives (exit 2)', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), TYPED);
    const input = JSON.stringify({ n: 'x', price: 1, wait_for: 1, share: 0.5, items: [] });
    const preview = await runCli(['preview', 'p.orch', '--input', input], dir);
    const run = await runCli(['run', 'p.orch', '--db', join(dir, 'runs.db'), '--input', input, '--quiet'], dir);
    expect([preview.code, run.code]).toEqual([2, 2]);
    expect(preview.stderr).toContain('input does not match plan p: /n: must be integer');
    expect(run.stderr).toContain('input does not match plan p: /n: must be integer');
  });

  it('takes durations, money and percentages written as Orch literals, in preview and run alike', async () => {
    const dir = tempDir('orch-badinput-');
    writeFileSync(join(dir, 'p.orch'), TYPED);
    const input = JSON.stringify({ n: 1, price: '12.50usd', wait_for: '5m', share: '80%', items: ['a'] });
    const preview = await runCli(['preview', 'p.orch', '--input', input], dir);
    expect(preview.code, preview.stderr).toBe(0);
    const run = await runCli(['run', 'p.orch', '--db', join(dir, 'runs.db'), '--input', input, '--json', '--quiet'], dir);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ output: { v: 12.5 } });
    // A unit that is not the type's stays refused.
    const wrong = await runCli(['preview', 'p.orch', '--input', JSON.stringify({ n: 1, price: '5m', wait_for: '12usd', share: 1, items: [] })], dir);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('/price: must be number; /wait_for: must be number');
  });
});
