/**
 * The people a test names (LANGUAGE.md §9.2, §8.8): with an `auth` block listing users in the
 * project's orch.config.json, a name is one of those users (with their roles and groups) and
 * `group:G` one of G's members; without one, any name is a person who may decide approvals, and
 * `group:G` is a member of G made up for the test.
 */
import type { StringLit } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import { configSection, projectConfigFor } from '../project-config.js';
import { closest } from '../suggest.js';
import type { TestIdentity, TestPerson } from './types.js';

const GROUP = 'group:';
/** Made-up members of a group when no `auth` block lists people: enough for `approvals: N`. */
const MADE_UP_MEMBERS = 5;

interface ConfigUser {
  readonly roles: readonly string[];
  readonly groups: readonly string[];
}

/** The users of the config's `auth` block, or null when it lists none (any name is a person). */
export function configPeople(testFile: string): ReadonlyMap<string, ConfigUser> | null {
  const users = configSection(projectConfigFor(testFile), 'auth')['users'];
  if (!users || typeof users !== 'object' || Array.isArray(users)) return null;
  const out = new Map<string, ConfigUser>();
  for (const [name, raw] of Object.entries(users as Record<string, unknown>)) {
    const u = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
    out.set(name, { roles: strings(u['roles']), groups: strings(u['groups']) });
  }
  return out;
}

function strings(v: unknown): readonly string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function textOf(s: StringLit): string {
  return s.parts.filter((p): p is string => typeof p === 'string').join('');
}

/**
 * The person a test's string names; E0901 at it when the config's users have no such person (or
 * no member of such a group). `anyone` is the identity of a name no config constrains.
 */
export function personOf(lit: StringLit, people: ReadonlyMap<string, ConfigUser> | null, file: string, diags: Diagnostic[]): TestPerson {
  const written = textOf(lit);
  // A blank name names nobody, with or without an auth block (a made-up `-member-1` would decide).
  if (written.trim() === '' || written.trim() === GROUP) {
    const why = written.startsWith(GROUP) ? 'group:G needs the group\'s name ("group:finance")' : 'a person needs a name';
    diags.push(diagnostic('E0901', `unknown person "${written}": ${why}`, file, lit.range));
    return { written, candidates: [] };
  }
  if (written.startsWith(GROUP)) {
    const group = written.slice(GROUP.length);
    if (people === null) {
      const members = Array.from({ length: MADE_UP_MEMBERS }, (_, i): TestIdentity => ({ subject: `${group}-member-${i + 1}`, roles: ['approver'], groups: [group] }));
      return { written, candidates: members };
    }
    const members = [...people].filter(([, u]) => u.groups.includes(group)).map(([subject, u]): TestIdentity => ({ subject, roles: u.roles, groups: u.groups }));
    if (members.length === 0) diags.push(diagnostic('E0901', `no user of the config's auth block is in group "${group}"`, file, lit.range));
    return { written, candidates: members };
  }
  if (people === null) return { written, candidates: [{ subject: written, roles: ['approver'], groups: ANY_GROUP }] };
  const user = people.get(written);
  if (!user) {
    const best = closest(written, people.keys());
    diags.push(
      diagnostic('E0901', `unknown person "${written}": the config's auth block has no such user${best ? `; did you mean "${best}"?` : ''}`, file, lit.range,
        best ? { fixes: [{ title: `Change to "${best}"`, edits: [{ file, range: lit.range, newText: JSON.stringify(best) }] }] } : {}),
    );
    return { written, candidates: [] };
  }
  return { written, candidates: [{ subject: written, roles: user.roles, groups: user.groups }] };
}

/**
 * The groups of a person no `auth` block describes: every group (`*`), so an approval for
 * `group:finance` may be decided by "alice" in a project that has no people configured.
 */
export const ANY_GROUP: readonly string[] = ['*'];

/** Who starts the run by default (not a person of the config). */
export const DEFAULT_STARTER: TestPerson = { written: 'test', candidates: [{ subject: 'test', roles: ['operator'], groups: [] }] };
