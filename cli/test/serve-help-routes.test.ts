/**
 * `orch serve --help` lists every route of the server: its route list, expanded, is the role
 * table's (`serve/http/role-table.ts`, which every route is looked up in), no more and no less — a
 * route added to the server and the table but not to the help fails here.
 */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ROLE_TABLE } from '../../serve/index.js';
import { COMMANDS } from '../commands/index.js';
import { expandRoute, routesHelp, SERVE_ROUTES } from '../commands/serve-routes.js';
import { createProgram } from '../program.js';

function helpOf(cmd: Command): string {
  let out = '';
  cmd.configureOutput({ writeOut: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

describe('orch serve --help: its routes are the role table', () => {
  it('the listed routes, expanded, are exactly the routes of the role table', () => {
    const listed = SERVE_ROUTES.flatMap(([route]) => expandRoute(route));
    expect([...new Set(listed)].sort()).toEqual(Object.keys(ROLE_TABLE).sort());
    expect(listed.length).toBe(new Set(listed).size);
  });

  it('--help prints the list', async () => {
    const program = createProgram(await Promise.all(COMMANDS.map((c) => c.load())));
    const help = helpOf(program.commands.find((c) => c.name() === 'serve')!);
    const lines = routesHelp();
    for (const line of lines) expect(help).toContain(line);
    for (const [route] of SERVE_ROUTES) expect(lines.join(' ')).toContain(route);
  });

  it('the notation expands as written: optional parts, alternatives in brackets and in the last segment', () => {
    expect(expandRoute('GET /runs[/ID[/timeline|/plan]]')).toEqual(['GET /runs', 'GET /runs/:id', 'GET /runs/:id/timeline', 'GET /runs/:id/plan']);
    expect(expandRoute('POST /runs/ID/steps/STEP/cancel|approve')).toEqual(['POST /runs/:id/steps/:step/cancel', 'POST /runs/:id/steps/:step/approve']);
    expect(expandRoute('GET /ui/app.js|app.css')).toEqual(['GET /ui/app.js', 'GET /ui/app.css']);
  });
});
