/**
 * A TCP proxy a test puts between one process and Postgres to fault the link between them:
 * - `cut` / `heal`, as a network partition: while cut, nothing is read on either side of any
 *   connection (what was sent waits in the kernel's buffers, as it would in TCP's
 *   retransmissions), and connections opened meanwhile are accepted but not carried to Postgres;
 *   on heal everything flows again, in order — a link that went silent, nothing dropped;
 * - `reset`: every open connection closed at once, both ends, as a reset does;
 * - `latency(ms)`: every chunk, both ways, delivered `ms` later (order kept) — a slow link.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface FaultProxy {
  /** The port to give the process instead of Postgres's (on the address it listens on). */
  readonly port: number;
  /** Stops every byte, both ways, until `heal`. */
  cut(): void;
  heal(): void;
  /** Closes every open connection (the process sees them reset); new ones are carried as before. */
  reset(): void;
  /** Delays every chunk, both ways, by `ms` from now on (0: none). */
  latency(ms: number): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

/**
 * `listen`: the address to accept on (default 127.0.0.1) — a netns host's gateway
 * (test/support/netns.ts) for a process inside that namespace.
 */
export async function startFaultProxy(target: { readonly host: string; readonly port: number }, listen = '127.0.0.1'): Promise<FaultProxy> {
  let isCut = false;
  let delayMs = 0;
  /** Sockets whose bytes are forwarded (clients carried to Postgres and their upstreams). */
  const sockets = new Set<Socket>();
  /** Accepted while cut: carried to Postgres on heal (paused since they connected). */
  const waiting: Socket[] = [];

  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const carry = (client: Socket): void => {
    if (client.destroyed) return;
    track(client);
    const upstream = connect(target.port, target.host);
    track(upstream);
    const forward = (from: Socket, to: Socket): void => {
      /** When the last delayed chunk is due: a later one is never due before it (order kept). */
      let lastDue = 0;
      from.on('data', (chunk: Buffer) => {
        // Delayed chunks still due go first, even once the latency is back to 0.
        if (delayMs > 0 || lastDue > Date.now()) {
          const due = Math.max(Date.now() + delayMs, lastDue);
          lastDue = due;
          setTimeout(() => {
            if (!to.destroyed) to.write(chunk);
          }, due - Date.now());
          return;
        }
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            if (!isCut) from.resume();
          });
        }
      });
      from.on('close', () => to.destroy());
    };
    forward(client, upstream);
    forward(upstream, client);
    if (isCut) {
      client.pause();
      upstream.pause();
    } else client.resume();
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => client.destroy());
    if (isCut) waiting.push(client);
    else carry(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listen, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fault proxy has no port');

  return {
    port: address.port,
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      for (const s of sockets) s.pause();
    },
    heal() {
      isCut = false;
      for (const s of sockets) s.resume();
      for (const client of waiting.splice(0)) carry(client);
    },
    reset() {
      for (const sock of sockets) sock.destroy();
    },
    latency(ms: number) {
      delayMs = Math.max(0, ms);
    },
    async close() {
      for (const s of [...sockets, ...waiting.splice(0)]) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
