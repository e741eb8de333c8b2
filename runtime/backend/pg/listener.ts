/**
 * LISTEN on a connection of its own (a pooled one would be handed to other queries), opened
 * again a second after it drops. `ready` once the first LISTEN landed (or failed);
 * `listening` each time a later one lands, after a reconnection: notifications sent meanwhile
 * were missed.
 */
import { openClient } from './pool.js';

const RELISTEN_MS = 1000;

export interface Listener {
  /** The first LISTEN landed, or the first try failed (a later one that lands is `listening`). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function listen(url: string, channel: string, on: { readonly notified: (payload: string) => void; readonly listening?: () => void }): Listener {
  let closed = false;
  let client: ReturnType<typeof openClient> | null = null;
  let relisten: NodeJS.Timeout | null = null;
  let settle: (() => void) | null = null;
  const ready = new Promise<void>((done) => (settle = done));
  const open = (): void => {
    if (closed) return;
    const c = openClient(url);
    client = c;
    const retry = () => {
      settle?.();
      settle = null;
      if (client !== c) return;
      client = null;
      c.end().catch(() => undefined);
      if (closed) return;
      relisten = setTimeout(() => {
        relisten = null;
        open();
      }, RELISTEN_MS);
      relisten.unref();
    };
    c.on('error', retry);
    c.on('end', retry);
    c.on('notification', (n) => on.notified(n.payload ?? ''));
    c.connect()
      .then(() => c.query(`LISTEN ${channel}`))
      .then(() => {
        if (settle) {
          settle();
          settle = null;
        } else on.listening?.();
      })
      .catch(retry);
  };
  open();
  return {
    ready,
    close: async () => {
      closed = true;
      if (relisten) clearTimeout(relisten);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
