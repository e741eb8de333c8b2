/**
 * What the compiler may know of a project's `orch.config` (LANGUAGE.md §8): the keys it checks plans
 * against — `endpoints`, `prices`, `channels`, `mcp` — read from files alone, synchronously, with no
 * network. Only `orch.config.json` is read: a JS config is code, and the compiler (and the language
 * server, which checks on every keystroke) never runs user code, so with `orch.config.js|mjs` the
 * config's keys are unknown here and checks that need them stay silent.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { diagnostic, type Diagnostic, type Range } from '../language/index.js';
import { LOCK_FILE } from './mcp-lock.js';

const CONFIG_NAMES = ['orch.config.js', 'orch.config.mjs', 'orch.config.json'] as const;
const ROOT_MARKERS = [...CONFIG_NAMES, 'package.json', '.git'] as const;

/** A project's root: the nearest folder at or above `dir` holding a config, a package.json or .git. */
export function projectRootOf(dir: string): string {
  const start = resolve(dir);
  let at = start;
  for (;;) {
    for (const marker of ROOT_MARKERS) if (existsSync(join(at, marker))) return at;
    const parent = dirname(at);
    if (parent === at) return start;
    at = parent;
  }
}

/**
 * Whether `path` is a file, besides the `.orch` sources, whose change can change a check's verdict
 * (a project's config, or its MCP lock that `import mcp` modules are generated from): a watcher
 * such as the language server's re-checks every open file when one changes.
 */
export function isProjectFile(path: string): boolean {
  const name = basename(path);
  return name === LOCK_FILE || (CONFIG_NAMES as readonly string[]).includes(name);
}

export type ProjectConfigView =
  /** No config file: every config-defined name is undefined. */
  | { readonly kind: 'none'; readonly root: string }
  /** A JSON config the compiler read. */
  | { readonly kind: 'json'; readonly root: string; readonly file: string; readonly raw: Readonly<Record<string, unknown>> }
  /**
   * A JS config (not run by the compiler), or a JSON one that does not parse: its keys are unknown.
   * `error` (and where in the file, `at`) when it is JSON that cannot be read, said of the file
   * (`must hold an object`).
   */
  | { readonly kind: 'opaque'; readonly root: string; readonly file: string; readonly error?: string; readonly at?: Range };

const cache = new Map<string, { mtimeMs: number; view: ProjectConfigView }>();

/** The config of the project rooted at `root`, re-read only when the file changes. */
export function readProjectConfig(root: string): ProjectConfigView {
  const file = CONFIG_NAMES.map((n) => join(root, n)).find((f) => existsSync(f));
  if (!file) return { kind: 'none', root };
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return { kind: 'none', root };
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.view;
  const view = parseConfigFile(root, file);
  cache.set(file, { mtimeMs, view });
  return view;
}

/** The config of the project that a source file (or folder) belongs to. */
export function projectConfigFor(path: string, isDir = false): ProjectConfigView {
  return readProjectConfig(projectRootOf(isDir ? path : dirname(path)));
}

/**
 * The config a check of `file` reads, as a value that stays the same (`===`) while the config file
 * does not change: what a check's result is reused under (the editor's plan memo) must include it.
 */
export function projectConfigStamp(file: string): unknown {
  const view = projectConfigFor(file);
  return view.kind === 'none' ? `no config at ${view.root}` : view;
}

/** One top-level section of a JSON config as a record of named entries (`{}` when absent or unknown). */
export function configSection(view: ProjectConfigView, key: string): Readonly<Record<string, unknown>> {
  if (view.kind !== 'json') return {};
  const section = view.raw[key];
  // Without a prototype: a name a plan gives (`notify(channel: "toString")`) is looked up among
  // the config's own entries only, never found on Object.prototype.
  return Object.assign(Object.create(null) as Record<string, unknown>, section && typeof section === 'object' && !Array.isArray(section) ? section : {});
}

export interface ConfigPrice {
  readonly input_per_mtok: number;
  readonly output_per_mtok: number;
}

/**
 * A model's entry of `prices` as `orch run` reads it (runtime/models/config.ts): its price,
 * `'malformed'` when it is there but not two numbers ≥ 0 (orch run refuses the config), or
 * undefined when there is none.
 */
export function configPrice(view: ProjectConfigView, model: string): ConfigPrice | 'malformed' | undefined {
  const prices = configSection(view, 'prices');
  if (!Object.prototype.hasOwnProperty.call(prices, model)) return undefined;
  const p = prices[model] as { input_per_mtok?: unknown; output_per_mtok?: unknown } | null;
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  return p && typeof p === 'object' && !Array.isArray(p) && ok(p.input_per_mtok) && ok(p.output_per_mtok) ? { input_per_mtok: p.input_per_mtok, output_per_mtok: p.output_per_mtok } : 'malformed';
}

/**
 * §8.4: whether a config's `"channels"` declares none — absent, or `{}` — so that `notify` keeps
 * v0.2's behaviour (the message goes to the run's log, `delivered: false`). An empty object names
 * no channel any message could go through: it is "no channels", not "every channel missing".
 */
export function declaresNoChannels(channels: unknown): boolean {
  return channels === undefined || channels === null || (typeof channels === 'object' && !Array.isArray(channels) && Object.keys(channels).length === 0);
}

export type ChannelTransport = 'email' | 'slack' | 'webhook';

/** How a `channels` entry of the config sends, as `orch run` reads it; undefined when it names no transport it can use. */
export function channelTransport(entry: unknown): ChannelTransport | undefined {
  return channelShape(entry).transport;
}

export interface ChannelShape {
  readonly transport: ChannelTransport | undefined;
  /** Why `orch run` cannot send through the entry at all (email without "smtp" or "from", a URL it cannot post to). */
  readonly problem?: string;
  /** Whether an email entry names recipients of its own (`to`), which `notify` needs. */
  readonly recipients: boolean;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A `channels` entry read as runtime/channels/channels.ts's `channelOf` reads it, from files alone:
 * `"email": { smtp, from, to }`, `"slack": URL | { url }`, `"webhook": URL | { url, headers }`, in
 * that order. A `"type"` key names nothing there, so neither here.
 */
export function channelShape(entry: unknown): ChannelShape {
  if (!isRecord(entry)) return { transport: undefined, recipients: false };
  const e = entry.email;
  if (isRecord(e)) {
    const recipients = (Array.isArray(e.to) && e.to.some((x) => typeof x === 'string')) || (typeof e.to === 'string' && e.to !== '');
    const problem =
      typeof e.smtp !== 'string' || typeof e.from !== 'string'
        ? 'email needs "smtp" (smtp://host:port) and "from"'
        : !urlOf(e.smtp, ['smtp:', 'smtps:'])
          ? '"smtp" must be an smtp:// or smtps:// URL (smtp://host:port)'
          : undefined;
    return { transport: 'email', recipients, ...(problem ? { problem } : {}) };
  }
  const urlIn = (v: unknown): string | undefined => (typeof v === 'string' ? v : isRecord(v) && typeof v.url === 'string' ? v.url : undefined);
  for (const transport of ['slack', 'webhook'] as const) {
    const url = urlIn(entry[transport]);
    if (url === undefined) continue;
    const problem = urlOf(url, ['http:', 'https:']) ? undefined : `the ${transport} URL must be an http:// or https:// URL`;
    return { transport, recipients: false, ...(problem ? { problem } : {}) };
  }
  return { transport: undefined, recipients: false };
}

/**
 * Whether `text` is a URL orch run sends to (runtime/channels): one of `schemes` with a host —
 * `mail.example.com:587` parses as scheme `mail.example.com:` without one. A `"secret:NAME"` value
 * is only known at run time, so it passes.
 */
function urlOf(text: string, schemes: readonly string[]): boolean {
  if (text.startsWith('secret:')) return true;
  if (!URL.canParse(text)) return false;
  const u = new URL(text);
  return schemes.includes(u.protocol) && u.hostname !== '';
}

/** Whether names under `key` can be judged from files alone (a JSON config, or none at all). */
export function configKnown(view: ProjectConfigView): boolean {
  return view.kind !== 'opaque';
}

function parseConfigFile(root: string, file: string): ProjectConfigView {
  if (!file.endsWith('.json')) return { kind: 'opaque', root, file };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
    const raw: unknown = JSON.parse(text);
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return { kind: 'opaque', root, file, error: 'must hold an object', at: rangeAt(text, 0) };
    return { kind: 'json', root, file, raw: raw as Record<string, unknown> };
  } catch (err) {
    const bad = jsonSyntaxError(text, err);
    // At its end when JSON.parse does not say where (it ran out of input).
    return { kind: 'opaque', root, file, error: `cannot be read: ${bad.message}`, at: rangeAt(text, bad.offset ?? text.length) };
  }
}

/**
 * JSON.parse's complaint about a config's text, without the text: V8 quotes the characters around
 * an unexpected token (`Unexpected token 'h', ..."assword": hunter2-pa"... is not valid JSON`), and
 * a config's are its credentials. Where it was (an offset into `text`) when it can be told: V8
 * says `at position N`, or quotes up to 10 characters either side of it.
 */
export function jsonSyntaxError(text: string, err: unknown): { readonly message: string; readonly offset: number | null } {
  const raw = err instanceof Error ? err.message : String(err);
  const quoted = /^Unexpected token .*?, (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(raw);
  if (!quoted) {
    const position = /position (\d+)/.exec(raw);
    return { message: raw, offset: position ? Number(position[1]) : null };
  }
  const [, before, excerpt, after] = quoted;
  const start = text.indexOf(excerpt!);
  const offset = start < 0 ? null : before ? start + 10 : after ? start + excerpt!.length - 10 : null;
  return { message: 'Unexpected token in JSON (not valid JSON)', offset };
}

/** The one-character range at `offset` of `text` (1-based line and column). */
export function rangeAt(text: string, offset: number): Range {
  const before = text.slice(0, Math.min(offset, text.length));
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { start: { line, column, offset }, end: { line, column: column + 1, offset: offset + 1 } };
}

/** A JSON config's text again, for a diagnostic's position ('' when it can no longer be read: the range only). */
export function configText(view: Extract<ProjectConfigView, { kind: 'json' }>): string {
  try {
    return readFileSync(view.file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Where the key at `path` (object keys from the top) is written in the JSON `text`, at its opening
 * quote; -1 when it is not (jsonc-parser's tree keeps every node's offset).
 */
export function keyOffset(text: string, path: readonly string[]): number {
  const root = parseTree(text);
  const property = root ? findNodeAtLocation(root, [...path])?.parent : undefined;
  const key = property?.type === 'property' ? property.children?.[0] : undefined;
  return key?.offset ?? -1;
}

/**
 * Whether a JSON config turns §9.3's findings into warnings (`"flows": "warn"`). Any other value
 * is a W0803 at the key — a typo (`"warning"`) would otherwise leave the findings errors in silence.
 */
export function flowsWarn(view: ProjectConfigView, diags: Diagnostic[], fromFile: string): boolean {
  if (view.kind !== 'json' || view.raw.flows === undefined) return false;
  if (view.raw.flows === 'warn') return true;
  const text = configText(view);
  const at = Math.max(0, keyOffset(text, ['flows']));
  diags.push(diagnostic('W0803', `"flows": ${JSON.stringify(view.raw.flows)} is not read (only "warn" is): E0902 and E0903 stay errors`, configFileFrom(view.file, fromFile), rangeAt(text, at)));
  return false;
}

/**
 * W0803 at the config file when it is JSON that cannot be read: every check against it (endpoints,
 * prices, channels, MCP servers) is off, and `orch run` refuses the file — so a plan whose checks
 * need it is told so instead of passing in silence. Each check that consults the config calls it;
 * `compile` merges the identical diagnostics.
 */
export function configUnreadable(view: ProjectConfigView, diags: Diagnostic[], fromFile: string): void {
  if (view.kind !== 'opaque' || view.error === undefined) return;
  const shown = configFileFrom(view.file, fromFile);
  diags.push(diagnostic('W0803', `${shown} ${view.error}: the endpoints, prices, channels and MCP servers plans use are not checked against it (orch run refuses it)`, shown, view.at ?? rangeAt('', 0)));
}

/**
 * The config file named as the source file that reads it is (`fromFile`, as the compile was given
 * it): relative to the same place when that is relative (`orch.config.json`, `../orch.config.json`),
 * absolute when it is — so a diagnostic in the config reads like those in the plans beside it.
 */
export function configFileFrom(configFile: string, fromFile: string): string {
  if (isAbsolute(fromFile)) return configFile;
  return join(dirname(fromFile), relative(dirname(resolve(fromFile)), configFile));
}
