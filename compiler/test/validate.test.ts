import { describe, expect, it, vi } from 'vitest';
import { ajv } from '../ir/ajv.js';
import { validatePlanIR } from '../ir/validate.js';
import { validateValue } from '../ir/validate-value.js';
import { samplePlan } from './ir-fixture.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('validatePlanIR', () => {
  it('accepts a well-formed plan', () => {
    const r = validatePlanIR(clone(samplePlan()));
    expect(r).toMatchObject({ ok: true });
  });

  it('rejects a negative retry count with its JSON path', () => {
    const p = clone(samplePlan()) as any;
    p.steps[1].retry.max = -1;
    const r = validatePlanIR(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('/steps/1/retry/max');
  });

  it('rejects an unknown property and a missing one', () => {
    const p = clone(samplePlan()) as any;
    p.steps[0].extra = 1;
    delete p.estimates.local_ratio;
    const r = validatePlanIR(p);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const paths = r.errors.map((e) => e.path);
      expect(paths).toContain('/steps/0/extra');
      expect(paths).toContain('/estimates/local_ratio');
    }
  });

  it('rejects an expression given as a JS string', () => {
    const p = clone(samplePlan()) as any;
    p.steps[0].when = 'input.x > 3';
    const r = validatePlanIR(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.some((e) => e.path === '/steps/0/when')).toBe(true);
  });

  it('rejects a bad expression op deep inside args', () => {
    const p = clone(samplePlan()) as any;
    p.steps[0].args.x = { op: 'get', object: { op: 'eval', code: 'x' }, key: 'k' };
    const r = validatePlanIR(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.some((e) => e.path.startsWith('/steps/0/args/x/object'))).toBe(true);
  });

  it('rejects dangling dependencies', () => {
    const p = clone(samplePlan()) as any;
    p.steps[1].deps = ['ghost'];
    const r = validatePlanIR(p);
    expect(r).toEqual({ ok: false, errors: [{ path: '/steps/1/deps/0', message: 'unknown step "ghost"' }] });
  });

  it('rejects dependency cycles of any length, naming them', () => {
    const p = clone(samplePlan()) as any;
    const ids: string[] = p.steps.map((s: any) => s.id);
    // close the loop: the first step now waits for the last one
    p.steps[0].deps = [ids[ids.length - 1]];
    const r = validatePlanIR(p);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.message).join('\n')).toMatch(/dependency cycle: .* → /);
  });

  it('rejects after entries outside deps, unknown fallback capabilities and sub-plans, non-finite numbers', () => {
    const p = clone(samplePlan()) as any;
    p.steps[0].after = ['ghost'];
    p.steps[0].fallback = { capability: 'nope', args: {} };
    p.steps[1].action = { type: 'run', plan: 'missing', args: {} };
    p.steps[1].capability = null;
    const r = validatePlanIR(p);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors).toEqual(
        expect.arrayContaining([
          { path: '/steps/0/after/0', message: 'unknown step "ghost"' },
          { path: '/steps/0/fallback/capability', message: 'unknown capability "nope"' },
          { path: '/steps/1/action/plan', message: 'unknown sub-plan "missing"' },
        ]),
      );
    const q = clone(samplePlan()) as any;
    q.steps[0].retry.delay_ms = Infinity;
    expect(validatePlanIR(q)).toEqual({ ok: false, errors: [{ path: '/steps/0/retry/delay_ms', message: 'must be a finite number' }] });
  });

  it('rejects a nested schema that is not a schema (what the verifier and the runtime walk), accepts boolean ones', () => {
    const p = clone(samplePlan()) as any;
    const cap = Object.keys(p.capabilities)[0]!;
    p.capabilities[cap].output = { type: 'object', properties: { ok: true, list: { type: 'array', items: false } }, additionalProperties: false };
    expect(validatePlanIR(clone(p))).toMatchObject({ ok: true });
    for (const bad of [{ properties: { content: '[object Object]' } }, { items: 5 }, { additionalProperties: 'no' }, { properties: { a: { anyOf: [1] } } }, { required: [1] }]) {
      p.capabilities[cap].output = { type: 'object', ...bad };
      const r = validatePlanIR(clone(p));
      expect(r.ok, JSON.stringify(bad)).toBe(false);
      if (!r.ok) expect(r.errors[0]!.path).toMatch(new RegExp(`^/capabilities/${cap.replace('.', '\\.')}/output/`));
    }
  });

  it('never throws on junk', () => {
    for (const junk of [null, 1, 'x', [], {}, { version: 'orch.plan/v1' }]) expect(validatePlanIR(junk).ok).toBe(false);
  });
});

describe('validateValue', () => {
  const schema = {
    type: 'object',
    properties: { email: { type: 'string', 'x-orch-data': 'personal' }, n: { type: 'integer' } },
    required: ['email'],
    additionalProperties: false,
  };
  it('accepts a matching value and reports paths otherwise', () => {
    expect(validateValue(schema, { email: 'a@b', n: 2 })).toEqual({ ok: true });
    const r = validateValue(schema, { n: 'x' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path).sort()).toEqual(['/email', '/n']);
  });

  it('refuses non-finite numbers anywhere and ints that are not safe integers', () => {
    expect(validateValue(schema, { email: 'a', n: Infinity })).toEqual({ ok: false, errors: [{ path: '/n', message: 'must be a finite number' }] });
    expect(validateValue({}, { deep: [1, -Infinity] })).toEqual({ ok: false, errors: [{ path: '/deep/1', message: 'must be a finite number' }] });
    expect(validateValue(schema, { email: 'a', n: 1e300 })).toEqual({
      ok: false,
      errors: [{ path: '/n', message: 'must be an integer between -(2^53-1) and 2^53-1' }],
    });
    expect(validateValue({ type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'null' }] } }, [2 ** 53])).toMatchObject({ ok: false });
    expect(validateValue(schema, { email: 'a', n: Number.MAX_SAFE_INTEGER })).toEqual({ ok: true });
    expect(validateValue({ type: 'number' }, 1e300)).toEqual({ ok: true });
  });

  it('compiles a schema once however many fresh copies of it arrive (a worker parses each job anew), and stays bounded', () => {
    const schema = { type: 'object', properties: { tag: { type: 'string', const: 'once-per-text' } }, required: ['tag'] };
    const compile = vi.spyOn(ajv(), 'compile');
    const remove = vi.spyOn(ajv(), 'removeSchema');
    try {
      for (let i = 0; i < 50; i++) {
        expect(validateValue(clone(schema), { tag: 'once-per-text' })).toEqual({ ok: true });
        expect(validateValue(clone(schema), { tag: 'other' })).toMatchObject({ ok: false });
      }
      expect(compile).toHaveBeenCalledTimes(1);
      // Past a thousand distinct schemas the oldest are forgotten, by this cache and by ajv.
      const first = { type: 'integer', minimum: 0, maximum: 0 };
      const keep = validateValue(first, 0);
      for (let i = 1; i <= 1000; i++) validateValue({ type: 'integer', minimum: i, maximum: i }, i);
      expect(remove).toHaveBeenCalled();
      expect(keep).toEqual({ ok: true });
      // The same object still validates (its validator is kept with it); a fresh copy compiles again.
      expect(validateValue(first, 1)).toMatchObject({ ok: false });
      const before = compile.mock.calls.length;
      expect(validateValue(clone(first), 0)).toEqual({ ok: true });
      expect(compile.mock.calls.length).toBe(before + 1);
    } finally {
      compile.mockRestore();
      remove.mockRestore();
    }
  });
});
