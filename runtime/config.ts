/**
 * `orch.config.js|mjs|json` of the plan's project directory (never the working directory, never
 * a folder an IR file names): JS policy hooks (`preExecution`, `postExecution`), secrets and
 * limits. Secrets resolve from the environment first, then the config; every resolved value is
 * registered with the redactor.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jsonSyntaxError, someNode } from '../compiler/index.js';
import { isInside } from './executor/handler-path.js';
import { parseAge } from './backend/retention.js';
import type { Redactor } from './redact.js';
import type { PolicyHooks } from './scheduler/types.js';
import { envThenConfig, secretRefValues } from './secret-refs.js';
import { EMPTY_MODELS, parseModelsConfig, type ModelsConfig } from './models/config.js';
import { telemetryConfigProblem, type TelemetryConfig } from './telemetry/settings.js';
import { AuthConfigError, parseAuthConfig, type AuthConfig } from './people/auth-config.js';
import { asUserCode } from './user-output.js';

export interface OrchConfig {
  readonly file: string | null;
  readonly hooks: PolicyHooks;
  readonly secrets: { readonly [name: string]: string };
  /** `maxOutputBytes`: the largest handler output (serialized JSON, UTF-8) a step may return. */
  readonly maxOutputBytes?: number | null;
  /** `retention` (e.g. `"30d"`): finished runs older than this are pruned from the journal. */
  readonly retentionMs?: number | null;
  /** Consent scopes granted to every run of this project (LANGUAGE.md §7.2). */
  readonly consent?: readonly string[];
  /** `mcp`: MCP servers by name, as written (read by runtime/mcp; LANGUAGE.md §8.3). */
  readonly mcp?: unknown;
  /** `channels`: message channels by name, as written (read by runtime/channels; LANGUAGE.md §8.4); undefined when absent. */
  readonly channels?: unknown;
  /** `sources`: the connections of the `source` blocks, as written (read by runtime/context/sources; LANGUAGE.md §9.4). */
  readonly sources?: unknown;
  /** `endpoints` and `prices` (LANGUAGE.md §8.1; runtime/models/config.ts). */
  readonly models?: ModelsConfig;
  /** `telemetry`: where traces go and how the dashboard links to one (LANGUAGE.md §8.7). */
  readonly telemetry?: TelemetryConfig;
  /** `auth`: people, roles and sign-in (LANGUAGE.md §8.8); undefined: the single server token. */
  readonly auth?: AuthConfig;
}

export const EMPTY_CONFIG: OrchConfig = { file: null, hooks: {}, secrets: {}, maxOutputBytes: null };

const NAMES = ['orch.config.js', 'orch.config.mjs', 'orch.config.json'];

/** The config file of a project directory; a symlink leading out of the directory is refused. */
export function findConfig(root: string): string | null {
  for (const name of NAMES) {
    const file = join(resolve(root), name);
    if (!existsSync(file)) continue;
    if (!isInside(realpathSync(root), realpathSync(file)))
      throw new Error(`${file} is a link to a file outside the project directory ${root}`);
    return file;
  }
  return null;
}

/** A JSON syntax error in words and place, without the config's text (its credentials) that V8 quotes. */
function jsonProblem(text: string, err: unknown): string {
  const { message, offset } = jsonSyntaxError(text, err);
  if (offset === null || /position \d+/.test(message)) return message;
  const lines = text.slice(0, offset).split('\n');
  return `${message} at line ${lines.length}, column ${lines.at(-1)!.length + 1}`;
}

export async function loadConfig(root: string): Promise<OrchConfig> {
  const file = findConfig(root);
  if (!file) return EMPTY_CONFIG;
  let raw: Record<string, unknown>;
  let text = '';
  try {
    if (file.endsWith('.json')) raw = JSON.parse((text = readFileSync(file, 'utf8'))) as Record<string, unknown>;
    else {
      const mod = (await asUserCode(() => import(pathToFileURL(file).href))) as Record<string, unknown>;
      raw = (mod.default !== undefined ? mod.default : mod) as Record<string, unknown>;
    }
  } catch (err) {
    throw new Error(`cannot load ${file}: ${err instanceof SyntaxError && file.endsWith('.json') ? jsonProblem(text, err) : (err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file} must hold an object`);
  const hooksSrc = (raw.hooks && typeof raw.hooks === 'object' ? raw.hooks : raw) as Record<string, unknown>;
  const hooks: { -readonly [K in keyof PolicyHooks]: PolicyHooks[K] } = {};
  if (typeof hooksSrc.preExecution === 'function') hooks.preExecution = hooksSrc.preExecution as PolicyHooks['preExecution'];
  if (typeof hooksSrc.postExecution === 'function') hooks.postExecution = hooksSrc.postExecution as PolicyHooks['postExecution'];
  const secrets: Record<string, string> = {};
  if (raw.secrets !== undefined) {
    const bad = !raw.secrets || typeof raw.secrets !== 'object' || Array.isArray(raw.secrets);
    // Never the value in the message: it is a credential.
    if (bad) throw new Error(`${file}: secrets must be an object of names and string values, e.g. {"API_KEY": "…"}`);
    for (const [k, v] of Object.entries(raw.secrets as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${file}: secrets.${k} must be a string`);
      secrets[k] = String(v);
    }
  }
  const limit = raw.maxOutputBytes;
  if (limit !== undefined && !(typeof limit === 'number' && Number.isSafeInteger(limit) && limit > 0))
    throw new Error(`${file}: maxOutputBytes must be a positive whole number of bytes`);
  let retentionMs: number | null = null;
  if (raw.retention !== undefined) {
    retentionMs = typeof raw.retention === 'string' ? parseAge(raw.retention) : null;
    if (retentionMs === null) throw new Error(`${file}: retention must be an age such as "30d", "12h" or "90m"`);
  }
  const consent = raw.consent;
  if (consent !== undefined && !(Array.isArray(consent) && consent.every((s) => typeof s === 'string')))
    throw new Error(`${file}: consent must be a list of scope names, e.g. ["health_data"]`);
  const telemetryProblem = telemetryConfigProblem(raw.telemetry);
  if (telemetryProblem) throw new Error(`${file}: ${telemetryProblem}`);
  let auth: AuthConfig | undefined;
  try {
    auth = parseAuthConfig(raw.auth);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new Error(`${file}: ${err.message}`);
    throw err;
  }
  const models = raw.endpoints !== undefined || raw.prices !== undefined ? parseModelsConfig(raw, file) : EMPTY_MODELS;
  return {
    file, hooks, secrets, maxOutputBytes: limit ?? null, retentionMs, consent: (consent as string[] | undefined) ?? [], models,
    ...(raw.mcp !== undefined ? { mcp: raw.mcp } : {}),
    ...(raw.channels !== undefined ? { channels: raw.channels } : {}),
    ...(raw.sources !== undefined ? { sources: raw.sources } : {}),
    ...(raw.telemetry !== undefined ? { telemetry: raw.telemetry as TelemetryConfig } : {}),
    ...(auth ? { auth } : {}),
  };
}

/**
 * Registers with the redactor the value of every secret the plan names (`secret("X")` anywhere,
 * sub-plans included) that is set, when the run starts: a step resolves its secrets only when it
 * starts, and a policy hook's error or a handler that reads the environment itself must not put
 * one in the journal before that.
 */
export function redactNamedSecrets(plan: unknown, config: OrchConfig, redactor: Redactor, env: NodeJS.ProcessEnv = process.env): void {
  for (const name of secretNames(plan)) {
    const v = env[name] ?? config.secrets[name];
    if (v !== undefined) redactor.add(v);
  }
}

/** Each IR object's secret names: an IR is never changed once built, and a plan started again is not walked again. */
const named = new WeakMap<object, ReadonlySet<string>>();

function secretNames(ir: unknown): ReadonlySet<string> {
  const known = ir !== null && typeof ir === 'object' ? named.get(ir) : undefined;
  if (known !== undefined) return known;
  const names = new Set<string>();
  someNode(ir, (o) => {
    if (o.op === 'secret' && typeof o.name === 'string') names.add(o.name);
  });
  if (ir !== null && typeof ir === 'object') named.set(ir, names);
  return names;
}

/**
 * Registers with the redactor every secret a config holds: its `secrets`, what its `"secret:NAME"`
 * strings resolve to (an MCP server's env/headers, a channel, an endpoint's key, a source), and
 * the credentials written there as literals (runtime/secret-refs.ts) — before anything the config
 * reaches can quote one. What a run, a worker, `orch mcp lock` and `orch draft` write passes it.
 */
export function redactConfigSecrets(config: OrchConfig, redactor: Redactor, env: NodeJS.ProcessEnv = process.env): void {
  for (const v of Object.values(config.secrets)) redactor.add(v);
  const sections = { mcp: config.mcp, channels: config.channels, endpoints: config.models?.endpoints, sources: config.sources, telemetry: config.telemetry };
  for (const v of secretRefValues(sections, envThenConfig(config.secrets, env))) redactor.add(v);
}

export function secretResolver(config: OrchConfig, redactor: Redactor, env: NodeJS.ProcessEnv = process.env) {
  return (name: string): string => {
    const v = env[name] ?? config.secrets[name];
    if (v === undefined) throw new Error(`secret "${name}" is not set (environment variable or orch.config secrets)`);
    redactor.add(v);
    return v;
  };
}

/**
 * A project's config loaded once per root and kept for the process (the edges that reach MCP
 * servers and channels read it at every attempt); a load that failed is tried again next time.
 */
export function configMemo(load: (root: string) => Promise<OrchConfig> = loadConfig): (root: string) => Promise<OrchConfig> {
  const configs = new Map<string, Promise<OrchConfig>>();
  return (root) => {
    let c = configs.get(root);
    if (!c) {
      c = load(root);
      configs.set(root, c);
      c.catch(() => configs.delete(root));
    }
    return c;
  };
}
