/**
 * examples/notes_digest (LANGUAGE.md §8.3, §8.4): checked offline from its committed
 * orch.lock.json (no server can start: the config's commands are made to fail), then run end to
 * end — the filesystem and everything servers over stdio, an approval, the digest mailed to a real
 * SMTP server and parsed.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { compile } from '../../compiler/index.js';
import { Runtime } from '../../runtime/index.js';
import { orch, REPO_ROOT } from './cli.js';

const require = createRequire(import.meta.url);
const bin = (pkg: string): string => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'notes_digest');

function copy(): string {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'orch-notes-')), 'notes_digest');
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

function rewriteConfig(dir: string, change: (c: Record<string, any>) => void): void {
  const file = path.join(dir, 'orch.config.json');
  const c = JSON.parse(readFileSync(file, 'utf8'));
  change(c);
  writeFileSync(file, JSON.stringify(c));
}

describe('examples/notes_digest', () => {
  it('checks offline from its lock file: no server is started', () => {
    const dir = copy();
    rewriteConfig(dir, (c) => {
      for (const s of Object.values(c.mcp) as { command: string }[]) s.command = '/nonexistent/mcp-server';
    });
    const out = compile({ entry: path.join(dir, 'notes_digest.orch') });
    expect(out.diagnostics).toEqual([]);
    expect(out.plans[0]!.capabilities['notes_digest.read_note']?.handler).toMatchObject({ mcp: 'files', tool: 'read_text_file' });
  });

  it('previews and verifies like any plan (simulate blocks apply to MCP tools)', async () => {
    const preview = orch(['preview', 'examples/notes_digest/notes_digest.orch']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/total = get_sum/);
    const verify = orch(['verify', 'examples/notes_digest/notes_digest.orch', '--runs', '30', '--seed', '5']);
    expect(verify.stdout).toMatch(/^ok: /m);
    expect(verify.code, verify.stdout).toBe(0);
  });

  it('reads the note through MCP, sums with an MCP tool and mails the digest after approval', async () => {
    const mails: ParsedMail[] = [];
    const smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth: (auth, _s, cb) => cb(auth.password === 'change-me' ? null : new Error('bad password'), { user: auth.username }),
      onData: (stream, _s, cb) => void simpleParser(stream).then((m) => (mails.push(m), cb()), cb),
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as AddressInfo).port;
    const dir = copy();
    rewriteConfig(dir, (c) => {
      c.mcp.files = { command: process.execPath, args: [bin('@modelcontextprotocol/server-filesystem'), './notes'] };
      c.mcp.everything = { command: process.execPath, args: [bin('@modelcontextprotocol/server-everything')] };
      c.channels.email.email.smtp = `smtp://127.0.0.1:${port}`;
    });
    const rt = await Runtime.open({ db: path.join(dir, 'runs.db'), workers: 1, controlPollMs: 50 });
    try {
      const plan = compile({ entry: path.join(dir, 'notes_digest.orch') }).plans[0]!;
      const active = await rt.start(plan, { input: JSON.parse(readFileSync(path.join(dir, 'input.json'), 'utf8')) });
      const deadline = Date.now() + 30_000;
      // Approve as a person would once the run waits for it.
      for (;;) {
        const r = await rt.signal(active.runId, { stepId: 'approve', decision: 'approve', by: 'editor' });
        if (r.ok) break;
        if (Date.now() > deadline) throw new Error(`never waited for approval: ${r.message}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      const result = await active.result;
      expect(result.status, result.error ?? '').toBe('completed');
      expect(result.output).toEqual({ total: 'The sum of 1240 and 85 is 1325.', delivered: true });
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toBe('Digest 2026-11-24');
      expect(mails[0]!.to).toMatchObject({ text: 'team@example.com' });
      expect(mails[0]!.text).toContain('sales: 1240');
      expect(mails[0]!.text).toContain('The sum of 1240 and 85 is 1325.');
    } finally {
      await rt.close();
      await new Promise((r) => smtp.close(() => r(undefined)));
    }
  });
});
