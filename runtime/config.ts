/**
 * `orch.config.js|mjs|json`, found next to the plan (its base_dir) or in the working directory:
 * JS policy hooks (`preExecution`, `postExecution`) and secrets. Secrets resolve from the
 * environment first, then the config; every resolved value is registered with the redactor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PolicyHooks } from './scheduler/types.js';

export interface OrchConfig {
  readonly file: string | null;
  readonly hooks: PolicyHooks;
  readonly secrets: { readonly [name: string]: string };
}

export const EMPTY_CONFIG: OrchConfig = { file: null, hooks: {}, secrets: {} };

const NAMES = ['orch.config.js', 'orch.config.mjs', 'orch.config.json'];

export function findConfig(dirs: readonly string[]): string | null {
  for (const dir of dirs)
    for (const name of NAMES) {
      const file = join(resolve(dir), name);
      if (existsSync(file)) return file;
    }
  return null;
}

export async function loadConfig(dirs: readonly string[]): Promise<OrchConfig> {
  const file = findConfig(dirs);
  if (!file) return EMPTY_CONFIG;
  let raw: Record<string, unknown>;
  try {
    if (file.endsWith('.json')) raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    else {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      raw = (mod.default && typeof mod.default === 'object' ? mod.default : mod) as Record<string, unknown>;
    }
  } catch (err) {
    throw new Error(`cannot load ${file}: ${(err as Error).message}`);
  }
  const hooksSrc = (raw.hooks && typeof raw.hooks === 'object' ? raw.hooks : raw) as Record<string, unknown>;
  const hooks: { -readonly [K in keyof PolicyHooks]: PolicyHooks[K] } = {};
  if (typeof hooksSrc.preExecution === 'function') hooks.preExecution = hooksSrc.preExecution as PolicyHooks['preExecution'];
  if (typeof hooksSrc.postExecution === 'function') hooks.postExecution = hooksSrc.postExecution as PolicyHooks['postExecution'];
  const secrets: Record<string, string> = {};
  if (raw.secrets && typeof raw.secrets === 'object')
    for (const [k, v] of Object.entries(raw.secrets as Record<string, unknown>)) secrets[k] = String(v);
  return { file, hooks, secrets };
}

/** Remembers every secret value that was handed out and blanks it wherever it shows up. */
export class Redactor {
  private readonly values = new Set<string>();

  add(value: string): void {
    if (value.length > 0) this.values.add(value);
  }

  text(s: string): string {
    if (this.values.size === 0) return s;
    let out = s;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join('***');
    // A value inside a JSON string may carry escapes; cover the JSON-escaped form too.
    for (const v of this.values) {
      const j = JSON.stringify(v).slice(1, -1);
      if (j !== v && out.includes(j)) out = out.split(j).join('***');
    }
    return out;
  }

  value<T>(v: T): T {
    if (this.values.size === 0) return v;
    return JSON.parse(this.text(JSON.stringify(v) ?? 'null')) as T;
  }
}

export function secretResolver(config: OrchConfig, redactor: Redactor, env: NodeJS.ProcessEnv = process.env) {
  return (name: string): string => {
    const v = env[name] ?? config.secrets[name];
    if (v === undefined) throw new Error(`secret "${name}" is not set (environment variable or orch.config secrets)`);
    redactor.add(v);
    return v;
  };
}
