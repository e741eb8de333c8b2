/**
 * Password hashes of local users: `orch auth hash` makes argon2id ones; argon2 (any variant) and
 * bcrypt ones are accepted, so hashes made by other tools work too. Verification is the
 * libraries' own (constant-time); a hash neither library reads verifies nothing.
 */
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/** An argon2id hash of `password` with the library's defaults (m=19 MiB, t=2, p=1: OWASP's minimum). */
export function hashPassword(password: string): Promise<string> {
  // @node-rs/argon2's default algorithm is Argon2id.
  return argon2Hash(password);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    if (hash.startsWith('$argon2')) return await argon2Verify(hash, password);
    if (/^\$2[abxy]\$/.test(hash)) return await bcrypt.compare(password, hash);
  } catch {
    // A malformed hash is a refused password, never a crash.
  }
  return false;
}

/**
 * A hash to verify against when the user does not exist or has no password, so an unknown name
 * costs as much time as a known one (no user enumeration by timing).
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  return (decoy ??= hashPassword('orch-decoy-password'));
}
