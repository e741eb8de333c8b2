/**
 * W0803 at a key of an `orch.config.json` entry that nothing reads: an endpoint's, a channel's or
 * a source's (§8.1, §8.4, §9.4). The runtime takes the keys it knows and passes over the rest, so
 * a typo (`"baseurl"`) would leave the entry as if the key were not written — the prompt going to
 * the provider's default URL — with no word said. Said once a compile, at the key in the config.
 */
import { diagnostic, type Diagnostic } from '../language/index.js';
import { readFileSync } from 'node:fs';
import { configFileFrom, configSection, isRecord, rangeAt, type ProjectConfigView } from './project-config.js';
import { closest } from './suggest.js';

/** The keys each entry may have; `nested`: the keys of an object under one of them. */
interface EntryKeys {
  readonly what: string;
  readonly keys: readonly string[];
  readonly nested?: Readonly<Record<string, readonly string[]>>;
}

/** What the runtime reads (runtime/models/config.ts, runtime/channels, runtime/context/sources) and the compiler (`accepts`, `internal`). */
const SECTIONS: Readonly<Record<string, EntryKeys>> = {
  endpoints: { what: 'endpoint', keys: ['api', 'base_url', 'api_key', 'tier', 'accepts'] },
  channels: {
    what: 'channel',
    keys: ['email', 'slack', 'webhook', 'internal'],
    nested: { email: ['smtp', 'user', 'password', 'from', 'to'], slack: ['url'], webhook: ['url', 'headers'] },
  },
  sources: { what: 'source', keys: ['mqtt', 'webhook', 'username', 'password', 'ca', 'protocol'], nested: { webhook: ['token'] } },
};

export function unknownConfigKeys(view: ProjectConfigView, diags: Diagnostic[], fromFile: string): void {
  if (view.kind !== 'json') return;
  const unknown: { path: string[]; known: readonly string[]; what: string }[] = [];
  for (const [section, spec] of Object.entries(SECTIONS))
    for (const [name, entry] of Object.entries(configSection(view, section))) {
      if (!isRecord(entry)) continue;
      for (const [key, value] of Object.entries(entry)) {
        if (!spec.keys.includes(key)) unknown.push({ path: [section, name, key], known: spec.keys, what: `${spec.what} "${name}"` });
        const inner = spec.nested?.[key];
        if (inner && isRecord(value))
          for (const k of Object.keys(value)) if (!inner.includes(k)) unknown.push({ path: [section, name, key, k], known: inner, what: `"${key}" of ${spec.what} "${name}"` });
      }
    }
  if (unknown.length === 0) return;
  let text = '';
  try {
    text = readFileSync(view.file, 'utf8');
  } catch {
    // the range only: the file was read a moment ago
  }
  const file = configFileFrom(view.file, fromFile);
  for (const u of unknown) {
    const key = u.path[u.path.length - 1]!;
    const best = closest(key, u.known);
    const message = `${JSON.stringify(key)} of ${u.what} in orch.config "${u.path[0]}" is not a key orch reads, so it is ignored${
      best ? `; did you mean "${best}"?` : ` (known: ${u.known.join(', ')})`
    }`;
    const at = Math.max(0, keyOffset(text, u.path));
    const start = rangeAt(text, at);
    const length = text.startsWith('"', at) ? JSON.stringify(key).length : 1;
    diags.push(diagnostic('W0803', message, file, { start: start.start, end: { line: start.start.line, column: start.start.column + length, offset: at + length } }));
  }
}

/**
 * Where the key at `path` (object keys from the top) is written in the JSON `text`, at its opening
 * quote; -1 when it is not. `text` is JSON that parsed, so the walk needs no error handling.
 */
export function keyOffset(text: string, path: readonly string[]): number {
  let i = 0;
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const string = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  // Reads one value; on the path (`onPath`, at `depth`), stops at the key sought and gives its offset.
  const value = (depth: number, onPath: boolean): number => {
    space();
    const open = text[i];
    if (open === '"') {
      string();
      return -1;
    }
    if (open !== '{' && open !== '[') {
      while (i < text.length && !/[\s,\]}]/.test(text[i]!)) i++;
      return -1;
    }
    i++;
    for (;;) {
      space();
      if (i >= text.length) return -1;
      if (text[i] === '}' || text[i] === ']') {
        i++;
        return -1;
      }
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (open === '[') {
        value(depth + 1, false);
        continue;
      }
      const at = i;
      const key = string();
      space();
      i++; // the colon
      const here = onPath && key === path[depth];
      if (here && depth === path.length - 1) return at;
      const found = value(depth + 1, here);
      if (found >= 0) return found;
    }
  };
  return value(0, true);
}
