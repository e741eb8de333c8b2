/**
 * What a job carries about secrets (runtime/cluster/job-secrets.ts): names, never values. The
 * owner's placeholders go into the input where a secret goes; the worker fills them back — only
 * those of the job's names and tag.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapabilityIR } from '../../compiler/index.js';
import type { AttemptRequest } from '../scheduler/types.js';
import { fillSecrets, jobSecretNames, jobSecretsAndModel, placeholderSecrets, secretPlaceholder } from '../cluster/job-secrets.js';

const tagOf = (placeholder: string): string => /#([0-9a-f]+)⟧$/.exec(placeholder)![1]!;

describe('secrets in a job', () => {
  it('names the secrets the arguments read, with their tag; never the owner’s configured values', () => {
    const seen: string[] = [];
    const secret = placeholderSecrets((p) => seen.push(p));
    const input = { auth: `Bearer ${secret('TOKEN')}`, n: 3 };
    const secrets = { OWNER_ONLY: 'owner-value', TOKEN: secretPlaceholder('TOKEN'), LEN_ONLY: secretPlaceholder('LEN_ONLY') };
    expect(jobSecretNames({ secrets })).toEqual(['LEN_ONLY', 'TOKEN']);
    // Handed to the redactor, so the journal shows `***` where they are.
    expect(seen).toEqual([secretPlaceholder('TOKEN')]);
    const req = { input, secrets, resource: null, capability: { handler: { module: './h.js', export: 'h' } } as unknown as CapabilityIR } as unknown as AttemptRequest;
    const job = jobSecretsAndModel(req);
    expect(job).toEqual({ secrets: ['LEN_ONLY', 'TOKEN'], secretTag: tagOf(secretPlaceholder('TOKEN')) });
    expect(JSON.stringify(job)).not.toContain('owner-value');
    expect(jobSecretsAndModel({ ...req, secrets: { OWNER_ONLY: 'owner-value' } })).toEqual({ secrets: [] });
  });

  it('fills every placeholder of the tag, inside strings, lists and records; keys, other tags and non-strings stay', () => {
    const t = secretPlaceholder('T');
    const tag = tagOf(t);
    const forged = secretPlaceholder('T', 'deadbeefdeadbeef');
    const input = { auth: `Bearer ${t}!${t}`, list: [secretPlaceholder('U'), 7, null, true], [t]: 'key', forged: `x ${forged}`, unnamed: secretPlaceholder('V') };
    expect(fillSecrets(input, { T: 'tv', U: 'uv' }, tag)).toEqual({ auth: 'Bearer tv!tv', list: ['uv', 7, null, true], [t]: 'key', forged: `x ${forged}`, unnamed: secretPlaceholder('V') });
    // A job of an older owner (no tag) has no placeholders to fill.
    expect(fillSecrets(input, { T: 'tv' }, '')).toEqual(input);
  });

  it('round-trips: strings with secrets spliced in, sent as placeholders, come back whole (property)', () => {
    const name = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,11}$/);
    const piece = fc.oneof(fc.string(), name.map((n) => ({ secret: n })));
    fc.assert(
      fc.property(fc.array(fc.array(piece, { maxLength: 4 }), { maxLength: 4 }), fc.dictionary(name, fc.string()), (strings, given) => {
        const value = (n: string) => given[n] ?? `v-${n}`;
        const sent = strings.map((parts) => parts.map((p) => (typeof p === 'string' ? p : secretPlaceholder(p.secret))).join(''));
        const meant = strings.map((parts) => parts.map((p) => (typeof p === 'string' ? p : value(p.secret))).join(''));
        const used = [...new Set(strings.flat().flatMap((p) => (typeof p === 'string' ? [] : [p.secret])))];
        const names = jobSecretNames({ secrets: Object.fromEntries(used.map((n) => [n, secretPlaceholder(n)])) });
        expect(names).toEqual([...used].sort());
        const tag = tagOf(secretPlaceholder('X'));
        expect(fillSecrets({ sent }, Object.fromEntries(names.map((n) => [n, value(n)])), tag)).toEqual({ sent: meant });
      }),
    );
  });
});
