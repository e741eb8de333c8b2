/**
 * Password checks cost the same whoever is named (issue #47 item 7: a wrong password for a bcrypt
 * user took 619 ms, an unknown user 29 ms): every sign-in verifies one hash of each class the
 * configured users have — the named user's own for its class, a decoy of the same algorithm and
 * parameters for the others — so an unknown user, a user without a password, a bcrypt and an
 * argon2 user are told apart by nothing but the answer.
 */
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { hashClass, hashPassword, verifyAtOneCost } from '../index.js';

describe('verifyAtOneCost', () => {
  it('verifies the same classes, in the same order, for an unknown user, a bcrypt user and an argon2 user, right or wrong', async () => {
    const argon = await hashPassword('argon-pw');
    const bc = bcrypt.hashSync('bcrypt-pw', 5);
    const configured = [argon, bc];
    const classes = [await hashClass(argon), await hashClass(bc)];
    expect(classes).toEqual([expect.stringMatching(/^argon2 /), 'bcrypt 5']);
    const tries: [string | undefined, string, boolean][] = [
      [undefined, 'anything', false],
      [bc, 'bcrypt-pw', true],
      [bc, 'wrong', false],
      [argon, 'argon-pw', true],
      [argon, 'wrong', false],
      // A user's own hash passed for another class's: only the own one proves anything.
      [argon, 'bcrypt-pw', false],
    ];
    for (const [hash, password, ok] of tries) expect(await verifyAtOneCost(hash, password, configured), `${hash?.slice(0, 7)} ${password}`).toEqual({ ok, verified: classes });
  });

  it("a hash no configured user has (a secret changed since) is verified after the others; no configured hash at all: the default decoy's class", async () => {
    const argon = await hashPassword('argon-pw');
    const bc = bcrypt.hashSync('bcrypt-pw', 4);
    expect(await verifyAtOneCost(bc, 'bcrypt-pw', [argon])).toEqual({ ok: true, verified: [await hashClass(argon), 'bcrypt 4'] });
    expect(await verifyAtOneCost(undefined, 'x', [])).toEqual({ ok: false, verified: [await hashClass(argon)] });
  });
});
