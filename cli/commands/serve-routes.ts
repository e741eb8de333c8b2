/**
 * The routes `orch serve --help` lists, written compactly for people (`GET /runs[/ID[/plan]]`,
 * `POST /runs/ID/pause|resume`) and expanded back to the role table's spelling (`GET /runs/:id/plan`)
 * so that a test holds the list to `ROLE_TABLE`: a route added there and not here fails it.
 *
 * Notation: `[…]` is optional; `a|b` inside brackets picks one of its alternatives, and at the top
 * level one of the last path segment's; ID, STEP and NAME are the route's parameters.
 */
import { API_TRIGGER_ROUTE } from '../../serve/index.js';

/** A route (or a few, in the notation above), and what it is when the path does not say. */
export type RouteHelp = readonly [route: string, note?: string];

export const SERVE_ROUTES: readonly RouteHelp[] = [
  ['POST /events'],
  ['POST /signals'],
  ['POST /runs'],
  ['GET /runs[/ID[/timeline|/plan|/trace|/upgrade]]'],
  ['POST /runs/ID/pause|resume|cancel|retry|upgrade'],
  ['POST /runs/ID/steps/STEP/cancel|approve|reject'],
  ['POST /triggers/NAME/fire', 'manual'],
  ['POST <api path>'],
  ['GET /triggers'],
  ['GET /metrics'],
  ['GET /health'],
  ['GET /context'],
  ['GET /context/signals', 'value, set_at, age_ms, source, state'],
  ['GET /context/events'],
  ['POST /sources/NAME', 'a webhook source, with its own token: the body { "topic", "payload" }'],
  ['GET /stream', 'live run and context events, Server-Sent Events'],
  ['GET /approvals'],
  ['GET /resources'],
  ['GET /workers'],
  ['GET /spend'],
  ['GET /audit'],
  ['POST /session'],
  ['GET /session'],
  ['POST /session/logout'],
  ['DELETE /sessions'],
  ['GET /auth/oidc/login|callback', 'single sign-on, with "auth.oidc"'],
  ['GET /', 'the dashboard'],
  ['GET /login'],
  ['GET /ui/app.js|app.css'],
];

/** The list as `--help` prints it: comma-separated, wrapped at `width` columns. */
export function routesHelp(routes: readonly RouteHelp[] = SERVE_ROUTES, width = 110): string[] {
  const items = routes.map(([route, note], i) => `${route}${note ? ` (${note})` : ''}${i === routes.length - 1 ? '.' : ','}`);
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && line.length + 1 + item.length > width) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? item : `${line} ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const PARAMS: { readonly [shown: string]: string } = { ID: ':id', STEP: ':step', NAME: ':name' };

/** Every route one entry stands for, spelt as the role table keys them (`GET /runs/:id`). */
export function expandRoute(route: string): string[] {
  if (route === 'POST <api path>') return [API_TRIGGER_ROUTE];
  return expand(route).map((r) => r.replace(/\/(ID|STEP|NAME)(?=\/|$)/g, (_, p: string) => `/${PARAMS[p]}`));
}

function expand(route: string): string[] {
  const open = route.indexOf('[');
  if (open >= 0) {
    const close = matching(route, open);
    const [before, inner, after] = [route.slice(0, open), route.slice(open + 1, close), route.slice(close + 1)];
    return [...expand(before + after), ...splitTop(inner).flatMap((alt) => expand(before + alt + after))];
  }
  const slash = route.lastIndexOf('/');
  const last = route.slice(slash + 1);
  return last.includes('|') ? last.split('|').map((seg) => route.slice(0, slash + 1) + seg) : [route];
}

/** The index of the `]` closing the `[` at `open`. */
function matching(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '[') depth++;
    else if (s[i] === ']' && --depth === 0) return i;
  }
  throw new Error(`unclosed [ in route "${s}"`);
}

/** `a|b[c|d]` split at the `|`s outside brackets: `a`, `b[c|d]`. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '[') depth++;
    else if (s[i] === ']') depth--;
    else if (s[i] === '|' && depth === 0) {
      out.push(s.slice(from, i));
      from = i + 1;
    }
  }
  return [...out, s.slice(from)];
}
