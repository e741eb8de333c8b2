/**
 * The anchor of `npm run bench -- test`: the renewal scenario (scenario.ts) as an Inngest function
 * tested with `@inngest/test`, the way its README shows. Two of its known gaps shape the test:
 * it models no retries ("any step or function that fails once will fail permanently"), so five
 * retries are six executions, each with a fresh engine (mocked steps are memoised per engine);
 * and with inngest 4.x a mocked `step.waitForEvent` fails its event validation (the mock's data
 * reaches the validator unresolved), so each approval is a `step.run` that returns the decision.
 * Its `throttle` is configuration the test engine ignores, as it ignores the sleep's 30 days.
 */
import { Inngest } from 'inngest';
import { InngestTestEngine } from '@inngest/test';

// Silent: each of the five failing executions would log its error.
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const inngest = new Inngest({ id: 'orch-bench', logger: quiet });

const renewal = inngest.createFunction(
  { id: 'renewal', retries: 5, throttle: { limit: 2, period: '1m' }, triggers: [{ event: 'renewal/requested' }] },
  async ({ event, step }) => {
    const order = String((event.data as { order: string }).order);
    await step.sleep('cool-off', '30d');
    for (const who of ['finance', 'legal', 'owner']) {
      const decision = await step.run(`${who}-approves`, () => ({ approved: false, by: '' }));
      if (!decision.approved) throw new Error(`${who} did not approve`);
    }
    const first = await step.run('charge-first', () => ({ ok: false, id: '' }));
    await step.run('charge-second', () => ({ ok: false, id: '' }));
    await step.run('charge-third', () => ({ ok: false, id: '' }));
    return { id: first.id, order };
  },
);

/** One scenario: five failing executions, then one that completes; throws when one behaves otherwise. */
export async function inngestScenario(i: number): Promise<void> {
  for (let attempt = 0; attempt <= 5; attempt++) {
    const steps = [
      { id: 'cool-off', handler: () => undefined },
      ...['finance', 'legal', 'owner'].map((who) => ({ id: `${who}-approves`, handler: () => ({ approved: true, by: who }) })),
      {
        id: 'charge-first',
        handler: () => {
          if (attempt < 5) throw new Error('card declined');
          return { ok: true, id: `c-${i}` };
        },
      },
      { id: 'charge-second', handler: () => ({ ok: true, id: 'c-other' }) },
      { id: 'charge-third', handler: () => ({ ok: true, id: 'c-other' }) },
    ];
    const t = new InngestTestEngine({ function: renewal });
    const { result, error } = (await t.execute({ events: [{ name: 'renewal/requested', data: { order: `o-${i}`, amount: 10 + (i % 90) } }], steps })) as { result?: { id: string }; error?: unknown };
    const ok = attempt < 5 ? error !== undefined : result?.id === `c-${i}`;
    if (!ok) throw new Error(`inngest scenario ${i}, execution ${attempt + 1}: ${JSON.stringify({ result, error })}`);
  }
}
