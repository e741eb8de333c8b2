/**
 * Hosts of a test's own making (issue #49): each a Linux network namespace joined to this one by
 * a veth pair on a /30 of its own, so a process started in it (`spawnIn`) reaches this side only
 * over that link — and only at the link's host-side address, where the test listens (a fault proxy
 * in front of Postgres). `cut` takes the host side of the link down: the process's packets are
 * dropped from then on, as a partition drops them (TCP retransmits, nothing is refused), until
 * `heal` brings it up again. Nothing is routed beyond the pair: the namespace has no default route.
 *
 * Needs root and `ip` (iproute2); `netnsUnavailable()` says why not, for a test to fall back or
 * skip with that reason. Namespaces are named `orch-<pid>-<n>`; those of a test process that died
 * without removing them are removed by the next `createHost`.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface NetnsHost {
  /** The namespace's name (`ip netns exec NAME …`). */
  readonly ns: string;
  /** This side's address on the link: what the host's processes connect to. */
  readonly gateway: string;
  /** The namespace's own address on the link. */
  readonly address: string;
  /** Starts `command args` inside the namespace (its pid is the command's: `ip netns exec` execs it). */
  spawnIn(command: string, args: readonly string[], options?: SpawnOptions): ChildProcess;
  /** The link goes down on this side: every packet either way is lost until `heal`. */
  cut(): void;
  heal(): void;
  readonly isCut: boolean;
  /** Deletes the namespace and with it the link (idempotent). */
  remove(): void;
}

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let probed: string | null | undefined;

/** Why this machine cannot make hosts (not root, no `ip`, namespaces refused), or null when it can. */
export function netnsUnavailable(): string | null {
  if (probed !== undefined) return probed;
  if (process.platform !== 'linux') return (probed = `network namespaces are Linux's (this is ${process.platform})`);
  if (process.getuid?.() !== 0) return (probed = 'network namespaces need root');
  const name = `orch-probe-${process.pid}`;
  try {
    ip('netns', 'add', name);
    ip('netns', 'del', name);
    return (probed = null);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return (probed = `\`ip netns add\` failed: ${(e.stderr || e.message).trim().split('\n')[0]}`);
  }
}

/** Removes the namespaces (and so the links) of test processes that are gone. */
function removeStale(): void {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {
    return;
  }
  for (const m of list.matchAll(/^orch-(\d+)-\d+/gm)) {
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      try {
        ip('netns', 'del', m[0]);
      } catch {
        // Someone else removed it.
      }
    }
  }
}

let created = 0;
/** This process's /30s: 10.<second>.<n>.0, <second> from the pid so that two test processes differ. */
const second = 100 + (process.pid % 100);

/** A new host: namespace, veth pair, addresses, both ends up. */
export function createHost(): NetnsHost {
  if (created === 0) removeStale();
  const n = created++;
  if (n > 63) throw new Error('netns: at most 64 hosts per test process');
  const ns = `orch-${process.pid}-${n}`;
  // Interface names are at most 15 characters.
  const tag = `${process.pid % 100000}x${n}`;
  const hostSide = `oh${tag}`;
  const nsSide = `on${tag}`;
  const gateway = `10.${second}.${n * 4}.1`;
  const address = `10.${second}.${n * 4}.2`;
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide);
    ip('link', 'set', nsSide, 'netns', ns);
    ip('addr', 'add', `${gateway}/30`, 'dev', hostSide);
    ip('link', 'set', hostSide, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsSide);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsSide, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Not made.
    }
    try {
      ip('link', 'del', hostSide);
    } catch {
      // Went with the namespace.
    }
    throw err;
  }
  let isCut = false;
  let removed = false;
  return {
    ns,
    gateway,
    address,
    get isCut() {
      return isCut;
    },
    spawnIn(command, args, options = {}) {
      return spawn('ip', ['netns', 'exec', ns, command, ...args], options);
    },
    cut() {
      ip('link', 'set', hostSide, 'down');
      isCut = true;
    },
    heal() {
      ip('link', 'set', hostSide, 'up');
      isCut = false;
    },
    remove() {
      if (removed) return;
      removed = true;
      try {
        ip('netns', 'del', ns);
      } catch {
        // Gone already.
      }
    },
  };
}
