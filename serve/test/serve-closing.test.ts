/**
 * A server that cannot finish stopping says on what it waits (`RunningServer.closing`): `orch
 * serve` prints it when it gives up and exits 1 (serve/main.ts). Here the runtime's close hangs
 * on its journal, as behind a database that stopped answering.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServer } from '../server.js';
import { openBackend } from '../../runtime/index.js';
import { FakeStarter } from './fake-starter.js';
import { tempDir } from './serve-process.js';

/** A starter whose close reaches its journal and never comes back. */
class HangingStarter extends FakeStarter {
  reached!: () => void;
  readonly reachedJournal = new Promise<void>((r) => (this.reached = r));
  override async close(phase: (waitingFor: string) => void = () => {}): Promise<void> {
    phase('the journal to close');
    this.reached();
    await new Promise<never>(() => {});
  }
}

describe('RunningServer.closing', () => {
  it('is null while serving, then names what an unfinished close waits for', async () => {
    const starter = new HangingStarter();
    const server = await startServer({
      plans: [],
      triggers: [],
      starter,
      evaluate: () => null,
      state: await (await openBackend(join(tempDir(), 'state.db'))).triggerState(),
      token: 'closing-token-0123456789',
      host: '127.0.0.1',
      port: 0,
      catchUp: false,
    });
    expect(server.closing()).toBeNull();
    const closed = server.close(0);
    await starter.reachedJournal;
    expect(server.closing()).toBe('the journal to close');
    let settled = false;
    void closed.finally(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
  });
});
