/**
 * W0803 at a key of an `orch.config.json` entry that nothing reads: an endpoint's, a channel's or
 * a source's (§8.1, §8.4, §9.4). The runtime takes the keys it knows and passes over the rest, so
 * a typo (`"baseurl"`) would leave the entry as if the key were not written — the prompt going to
 * the provider's default URL — with no word said. Said once a compile, at the key in the config.
 */
import { diagnostic, type Diagnostic } from '../language/index.js';
import { configFileFrom, configSection, configText, isRecord, keyOffset, rangeAt, type ProjectConfigView } from './project-config.js';
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
  const text = configText(view);
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
