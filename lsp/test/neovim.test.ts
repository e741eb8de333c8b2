/**
 * The Neovim 0.7 configuration of docs/editors.md, run as written in Debian's Neovim (apt
 * `neovim`, 0.7.x) against `orch lsp --stdio` found on PATH: diagnostics with their codes, hover
 * and go-to-definition through Neovim's own LSP client. The Lua block is read from the doc, so
 * the doc cannot drift from what works.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from './client.js';

const NVIM = '/usr/bin/nvim';
const version = existsSync(NVIM) ? /NVIM v(\d+\.\d+\.\d+)/.exec(spawnSync(NVIM, ['--version'], { encoding: 'utf8' }).stdout)?.[1] : undefined;
if (!version) console.warn(`neovim.test: SKIPPED — ${NVIM} is missing (apt-get install neovim)`);

/** The fenced block that follows `marker` in docs/editors.md. */
function docBlock(marker: string): string {
  const doc = readFileSync(join(REPO, 'docs', 'editors.md'), 'utf8');
  const at = doc.indexOf(marker);
  if (at < 0) throw new Error(`docs/editors.md has no "${marker}"`);
  const m = /```lua\n([\s\S]*?)```/.exec(doc.slice(at));
  if (!m) throw new Error(`no lua block after "${marker}"`);
  return m[1]!;
}

/** Test driver, run after the doc's config: waits for the server, asks, writes JSON, quits. */
const DRIVER = `
local out = {}
local buf = vim.api.nvim_get_current_buf()
out.filetype = vim.bo[buf].filetype
local function attached() return #vim.lsp.buf_get_clients(buf) > 0 end
out.attached = vim.wait(20000, attached, 50)
out.diagnostics_ready = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(out.diagnostics, { lnum = d.lnum, message = d.message, code = (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or d.code })
end
local function at(line, col)
  vim.api.nvim_win_set_cursor(0, { line, col })
  return vim.lsp.util.make_position_params()
end
local function first(results)
  for _, r in pairs(results or {}) do if r.result then return r.result end end
end
local hover = first(vim.lsp.buf_request_sync(buf, 'textDocument/hover', at(HOVER_LINE, HOVER_COL), 15000))
out.hover = hover and hover.contents and (hover.contents.value or hover.contents) or vim.NIL
local def = first(vim.lsp.buf_request_sync(buf, 'textDocument/definition', at(DEF_LINE, DEF_COL), 15000))
if def and def[1] then def = def[1] end
out.definition = def and { uri = def.uri or def.targetUri, line = (def.range or def.targetSelectionRange).start.line } or vim.NIL
out.nvim = vim.version()
local f = io.open(OUT_FILE, 'w')
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
`;

let dir: string;
beforeAll(() => {
  if (!version) return;
  dir = mkdtempSync(join(tmpdir(), 'orch-nvim-'));
  // `orch` on PATH, as the doc assumes: a launcher for this checkout.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'orch'), `#!/bin/sh\nexec "${process.execPath}" "${join(REPO, 'bin', 'orch.js')}" "$@"\n`);
  chmodSync(join(bin, 'orch'), 0o755);
  const project = join(dir, 'project');
  mkdirSync(project);
  cpSync(join(FIXTURES, 'lib.orch'), join(project, 'lib.orch'));
  writeFileSync(join(project, 'main.orch'), readFileSync(join(FIXTURES, 'main.orch'), 'utf8').replace('  step done = wait 1s', '  step done = wait 1s\n  step oops = no_such_capability()'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!version)(`Neovim ${version ?? ''} with the docs/editors.md configuration`, () => {
  it('shows diagnostics with codes, hovers and goes to a definition', () => {
    const project = join(dir, 'project');
    const main = readFileSync(join(project, 'main.orch'), 'utf8').split('\n');
    const hoverLine = main.findIndex((l) => l.includes('step summary = summarize')) + 1;
    const defLine = main.findIndex((l) => l.includes('lib.fetch_data(')) + 1;
    const outFile = join(dir, 'out.json');
    const init = join(dir, 'init.lua');
    const driver = DRIVER
      .replace('HOVER_LINE, HOVER_COL', `${hoverLine}, ${main[hoverLine - 1]!.indexOf('summarize(')}`)
      .replace('DEF_LINE, DEF_COL', `${defLine}, ${main[defLine - 1]!.indexOf('fetch_data')}`)
      .replace('OUT_FILE', JSON.stringify(outFile));
    writeFileSync(init, docBlock('<!-- neovim-0.7 -->') + '\n' + `vim.api.nvim_create_autocmd('User', { pattern = 'OrchTest', callback = function() ${'\n'}${driver}${'\n'} end })\n`);
    const r = spawnSync(NVIM, ['--headless', '-n', '-i', 'NONE', '-u', init, '--noplugin', 'main.orch', '-c', 'doautocmd User OrchTest'], {
      cwd: project,
      env: { PATH: `${join(dir, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), XDG_STATE_HOME: join(dir, 'state'), XDG_CACHE_HOME: join(dir, 'cache') },
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(existsSync(outFile), `nvim wrote no result (exit ${r.status}): ${r.stdout}\n${r.stderr}`).toBe(true);
    const out = JSON.parse(readFileSync(outFile, 'utf8')) as {
      filetype: string; attached: boolean; diagnostics: { lnum: number; message: string; code: string }[];
      hover: string; definition: { uri: string; line: number };
    };
    expect(out.filetype).toBe('orch');
    expect(out.attached).toBe(true);
    const oops = main.findIndex((l) => l.includes('no_such_capability'));
    expect(out.diagnostics).toContainEqual({ lnum: oops, message: 'unknown capability "no_such_capability"', code: 'E0101' });
    expect(out.hover).toContain('capability summarize');
    expect(out.definition.uri.endsWith('/lib.orch')).toBe(true);
    const lib = readFileSync(join(project, 'lib.orch'), 'utf8').split('\n');
    expect(out.definition.line).toBe(lib.findIndex((l) => l.startsWith('capability fetch_data')));
  }, 120_000);
});
