/**
 * Password hashes of local users: `orch auth hash` makes argon2id ones; argon2 (any variant) and
 * bcrypt ones are accepted, so hashes made by other tools work too. Verification is the
 * libraries' own (constant-time); a hash neither library reads verifies nothing.
 */

// Loaded at the first password: every `orch` process loads this module, few check passwords (and
// argon2 is native: the .vsix's bundled CLI keeps it outside the bundle).
const argon2 = () => import('@node-rs/argon2');
const bcrypt = async () => (await import('bcryptjs')).default;

/** An argon2id hash of `password` with the library's defaults (m=19 MiB, t=2, p=1: OWASP's minimum). */
export async function hashPassword(password: string): Promise<string> {
  // @node-rs/argon2's default algorithm is Argon2id.
  return (await argon2()).hash(password);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    if (hash.startsWith('$argon2')) return await (await argon2()).verify(hash, password);
    if (/^\$2[abxy]\$/.test(hash)) return await (await bcrypt()).compare(password, hash);
  } catch {
    // A malformed hash is a refused password, never a crash.
  }
  return false;
}

/**
 * What verifying a hash costs, as a key: its algorithm and parameters as its own library reads
 * them (`argon2id m=19456 t=2 p=1 len=32 v=1`, `bcrypt 12`); null for a hash neither reads.
 */
export async function hashClass(hash: string): Promise<string | null> {
  try {
    if (hash.startsWith('$argon2')) {
      const o = (await argon2()).parseOptions(hash);
      return `argon2 a=${o.algorithm} m=${o.memoryCost} t=${o.timeCost} p=${o.parallelism} len=${o.outputLen} v=${o.version}`;
    }
    if (/^\$2[abxy]\$/.test(hash)) return `bcrypt ${(await bcrypt()).getRounds(hash)}`;
  } catch {
    // Unreadable: verifying it costs nothing, and verifies nothing.
  }
  return null;
}

const DECOY_PASSWORD = 'orch-decoy-password';
const decoys = new Map<string, Promise<string>>();

/** A hash of a password nobody has, of the same class (made once per class and process). */
function decoyOf(hash: string, cls: string): Promise<string> {
  let d = decoys.get(cls);
  if (!d) {
    d = (async () => {
      if (cls.startsWith('bcrypt')) return (await bcrypt()).hash(DECOY_PASSWORD, (await bcrypt()).getRounds(hash));
      const a = await argon2();
      const o = a.parseOptions(hash);
      return a.hash(DECOY_PASSWORD, { algorithm: o.algorithm, memoryCost: o.memoryCost, timeCost: o.timeCost, parallelism: o.parallelism, outputLen: o.outputLen, version: o.version });
    })();
    decoys.set(cls, d);
  }
  return d;
}

/** The default decoy (`orch auth hash`'s parameters), for a config with no readable hash. */
let defaultDecoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  return (defaultDecoy ??= hashPassword(DECOY_PASSWORD));
}

/**
 * Verifies `password` against `hash` — undefined for a name with no password (an unknown user,
 * a user who signs in with tokens only, a secret not set) — at one cost whoever is named
 * (issue #47 item 7: no user enumeration by timing): one verification of each class of hash in
 * `configured` (the hashes of every configured user), the user's own standing for its class and
 * a decoy of the same algorithm and parameters for every other. `verified`: the classes, in the
 * order verified (what a test compares).
 */
export async function verifyAtOneCost(hash: string | undefined, password: string, configured: readonly string[]): Promise<{ readonly ok: boolean; readonly verified: readonly string[] }> {
  const byClass = new Map<string, string>();
  for (const h of configured) {
    const cls = await hashClass(h);
    if (cls !== null && !byClass.has(cls)) byClass.set(cls, h);
  }
  if (byClass.size === 0) byClass.set(await hashClass(await decoyHash()) ?? 'default', await decoyHash());
  const own = hash === undefined ? null : await hashClass(hash);
  let ok = false;
  const verified: string[] = [];
  for (const [cls, sample] of byClass) {
    if (cls === own) ok = await verifyPassword(hash!, password);
    else await verifyPassword(await decoyOf(sample, cls), password);
    verified.push(cls);
  }
  // A hash of a class no other user has (one not among `configured`: a secret that changed since).
  if (own !== null && !byClass.has(own)) {
    ok = await verifyPassword(hash!, password);
    verified.push(own);
  }
  return { ok, verified };
}

/** Makes the decoys of `configured`'s classes now (at start), so the first sign-in is not the one that pays for them. */
export async function prepareDecoys(configured: readonly string[]): Promise<void> {
  for (const h of configured) {
    const cls = await hashClass(h);
    if (cls !== null) await decoyOf(h, cls);
  }
}
