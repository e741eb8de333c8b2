/**
 * The job text an owner dispatches (runtime/cluster/job-text.ts) is `JSON.stringify` of the job,
 * byte for byte, though its capability's JSON is serialized once per capability object.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapabilityIR } from '../../compiler/index.js';
import { jobText } from '../cluster/job-text.js';
import type { StepJob } from '../cluster/jobs.js';

const json = fc.jsonValue();
const capability = fc.record({ name: fc.string(), input: json, output: json, idempotent: fc.boolean(), note: fc.option(fc.string(), { nil: undefined }) }) as unknown as fc.Arbitrary<CapabilityIR>;

/** Jobs in the order `RemoteExecutor.dispatchOf` builds them, its optional keys present or not. */
const job = fc
  .record({
    run: fc.string(),
    key: fc.string(),
    attempt: fc.integer(),
    stepId: fc.string(),
    capability,
    baseDir: fc.string(),
    input: fc.dictionary(fc.string(), json),
    resource: fc.option(fc.string(), { nil: null }),
    timeoutMs: fc.option(fc.integer(), { nil: null }),
    maxOutputBytes: fc.option(fc.integer(), { nil: null }),
    handlerHash: fc.option(fc.string(), { nil: null }),
    secrets: fc.array(fc.string()),
    secretTag: fc.option(fc.string(), { nil: undefined }),
    traceparent: fc.option(fc.string(), { nil: undefined }),
  })
  .map((j) => j as unknown as Omit<StepJob, 'fence'>);

describe('a job as text', () => {
  it('is JSON.stringify of the job, byte for byte', () => {
    fc.assert(
      fc.property(job, (j) => {
        expect(jobText(j)).toBe(JSON.stringify(j));
      }),
    );
  });

  it('serializes the same capability again when it is another object, and the cached one for the same', () => {
    fc.assert(
      fc.property(job, job, (a, b) => {
        const shared = { ...b, capability: a.capability };
        expect(jobText(a)).toBe(JSON.stringify(a));
        expect(jobText(shared)).toBe(JSON.stringify(shared));
        expect(jobText(b)).toBe(JSON.stringify(b));
      }),
    );
  });

  it('holds with only the leading keys, or none of them', () => {
    const cap = { name: 'noop' } as unknown as CapabilityIR;
    const only = { run: 'r', key: 'k', attempt: 1, stepId: 's', capability: cap } as unknown as Omit<StepJob, 'fence'>;
    expect(jobText(only)).toBe(JSON.stringify(only));
    const bare = { capability: cap, baseDir: '.' } as unknown as Omit<StepJob, 'fence'>;
    expect(jobText(bare)).toBe(JSON.stringify(bare));
  });
});
