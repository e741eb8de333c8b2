/**
 * One process's way to Postgres in the partition tests and bench: a fault proxy of its own
 * (test/support/fault-proxy.ts), and — where `netns` — a host of its own (test/support/netns.ts)
 * whose link the proxy listens on, so that a partition is the link taken down.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { createHost, type NetnsHost } from './netns.js';

export interface DbLink {
  readonly proxy: FaultProxy;
  readonly host: NetnsHost | null;
  /** The database URL the process is given. */
  readonly url: string;
  /** Starts `node args` on the link's side (in its namespace, if any). */
  spawnNode(args: readonly string[], options: SpawnOptions): ChildProcess;
  /** A partition: the link down (netns) or the proxy silent. */
  cut(): void;
  heal(): void;
  /** Closes the proxy and removes the host. */
  close(): Promise<void>;
}

export async function openDbLink(dbUrl: string, netns: boolean): Promise<DbLink> {
  const target = new URL(dbUrl);
  const host = netns ? createHost() : null;
  const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) }, host?.gateway);
  const url = new URL(dbUrl);
  if (host) url.hostname = host.gateway;
  url.port = String(proxy.port);
  return {
    proxy,
    host,
    url: url.toString(),
    spawnNode: (args, options) => (host ? host.spawnIn(process.execPath, args, options) : spawn(process.execPath, args, options)),
    cut: () => (host ? host.cut() : proxy.cut()),
    heal: () => (host ? host.heal() : proxy.heal()),
    close: async () => {
      await proxy.close();
      host?.remove();
    },
  };
}
