/**
 * The LANGUAGE.md v0.2 examples (§7.1: nested `for each`, `race`, `repeat`; fixtures
 * language/test/fixtures/spec-5..7.orch, held equal to the spec by spec-fixtures.test.ts) check
 * without errors once the capabilities and context they leave out are declared
 * (fixtures/spec-v02-prelude.orch), and every IR the compiler writes — those and every example's —
 * validates against the published `orch.plan/v2` schema compiled with ajv's default options.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { compile } from '../index.js';
import { PLAN_SCHEMA_PATH, planSchema, validatePlanIR } from '../ir/validate.js';
import { compileText, codes } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SPEC_DIR = path.join(ROOT, 'language', 'test', 'fixtures');
const PRELUDE = readFileSync(fileURLToPath(new URL('./fixtures/spec-v02-prelude.orch', import.meta.url)), 'utf8');
const V02 = ['spec-5.orch', 'spec-6.orch', 'spec-7.orch'];

/** ajv with its defaults (strict mode on, no extra options): its default draft-07 class and its 2020-12 one. */
const strict = [new Ajv(), new Ajv2020()].map((ajv) => ajv.compile(JSON.parse(readFileSync(PLAN_SCHEMA_PATH, 'utf8')) as object));

function strictValid(ir: unknown): void {
  for (const validate of strict) expect(validate(JSON.parse(JSON.stringify(ir))), JSON.stringify(validate.errors)).toBe(true);
}

describe('the published orch.plan/v3 schema', () => {
  it('compiles under ajv default options, with strict mode on explicitly too, and warns about nothing', () => {
    const warnings: unknown[] = [];
    const logger = { log: () => undefined, warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) };
    // The v2 and v1 schemas, kept for reading v2 and v1 files, too.
    for (const version of [3, 2, 1] as const) {
      expect(() => new Ajv({ logger }).compile(planSchema(version))).not.toThrow();
      expect(() => new Ajv({ strict: true, logger }).compile(planSchema(version))).not.toThrow();
      expect(() => new Ajv2020({ logger }).compile(planSchema(version))).not.toThrow();
      expect(() => new Ajv2020({ strict: true, logger }).compile(planSchema(version))).not.toThrow();
    }
    expect(warnings).toEqual([]);
  });
});

describe('LANGUAGE.md v0.2 examples', () => {
  for (const f of V02) {
    it(`${f} checks without errors and compiles to a strict-valid v3 IR`, () => {
      const text = `${PRELUDE}\n${readFileSync(path.join(SPEC_DIR, f), 'utf8')}`;
      const out = compileText(text);
      expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
      expect(out.plans).toHaveLength(1);
      const ir = out.plans[0]!;
      expect(ir.version).toBe('orch.plan/v3');
      expect(ir.blocks!.length).toBeGreaterThan(0);
      strictValid(ir);
      expect(validatePlanIR(JSON.parse(JSON.stringify(ir)))).toMatchObject({ ok: true });
    });
  }

  it('spec-6 checks as written, with no context block: undeclared live signals are read untyped; a context block makes reads checked', () => {
    const race = readFileSync(path.join(SPEC_DIR, 'spec-6.orch'), 'utf8');
    expect(codes(compileText(race).diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    const declared = compileText(`context {\n  replied: bool\n}\n${race}`);
    expect(declared.diagnostics.filter((d) => d.code === 'E0201').map((d) => d.message)).toEqual([
      'context ({ replied: bool }) has no field "customer_replied"',
    ]);
  });

  it('spec-5: greet.output is a list of lists; spec-6: follow_up waits for the race; spec-7: publish follows the loop', () => {
    const ir = (f: string) => compileText(`${PRELUDE}\n${readFileSync(path.join(SPEC_DIR, f), 'utf8')}`).plans[0]!;
    const onboarding = ir('spec-5.orch');
    expect(onboarding.blocks!.map((b) => [b.type, b.parent === null])).toEqual([['for_each', true], ['for_each', false]]);
    const support = ir('spec-6.orch');
    expect(support.steps.find((s) => s.id === 'follow_up')).toMatchObject({ deps: ['answered', 'reminder'], waits_for: ['reply'] });
    const review = ir('spec-7.orch');
    expect(review.steps.find((s) => s.id === 'publish')).toMatchObject({ waits_for: ['revise'] });
    expect(review.blocks).toMatchObject([{ type: 'repeat', id: 'revise', max: 4, steps: ['draft', 'review'] }]);
  });
});

describe('every example compiles to a strict-valid v2 IR', () => {
  const dir = path.join(ROOT, 'examples');
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'test')
    .flatMap((d) => readdirSync(path.join(dir, d.name)).filter((f) => f.endsWith('.orch')).map((f) => path.join(dir, d.name, f)));
  it.each(files.map((f) => [path.relative(ROOT, f), f]))('%s', (_rel, file) => {
    const out = compile({ entry: file });
    expect(codes(out.diagnostics).filter((c) => c.startsWith('E'))).toEqual([]);
    for (const p of out.plans) {
      strictValid(p);
      for (const sub of Object.values(p.subplans)) strictValid(sub);
    }
  });
});
