/**
 * A job as the text its attempt row carries (`orch.attempts.job`). Its capability is the plan's
 * own object, the same for every step that calls it, and was serialized again with every attempt
 * — ~300 bytes of a no-op step's ~550 in the bench, a tool's JSON schemas on a real plan — so its
 * JSON is kept per capability object (the IR is never mutated) and spliced in.
 */
import type { StepJob } from './jobs.js';

const capabilityTexts = new WeakMap<object, string>();

/**
 * `JSON.stringify(job)`, byte for byte, for a job whose keys begin `run, key, attempt, stepId,
 * capability` (the order `RemoteExecutor.dispatchOf` builds them in); another order gives the
 * same document with those five first.
 */
export function jobText(job: Omit<StepJob, 'fence'>): string {
  const { run, key, attempt, stepId, capability, ...rest } = job;
  if (typeof capability !== 'object' || capability === null) return JSON.stringify(job);
  let cap = capabilityTexts.get(capability);
  if (cap === undefined) capabilityTexts.set(capability, (cap = JSON.stringify(capability)));
  const head = JSON.stringify({ run, key, attempt, stepId });
  const tail = JSON.stringify(rest);
  return `${head.slice(0, -1)}${head.length > 2 ? ',' : ''}"capability":${cap}${tail.length > 2 ? `,${tail.slice(1)}` : '}'}`;
}
