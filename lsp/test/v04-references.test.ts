/**
 * The name index over v0.4 declarations (LANGUAGE.md §9.2, §9.4): a test's plan, mocked
 * capabilities and steps, and the signals sources, `simulate context` and a test's `signal` set,
 * are references to their declarations (go to definition, rename, highlights).
 */
import { describe, expect, it } from 'vitest';
import { parse } from '../../language/index.js';
import { buildFileIndex } from '../symbol-index/references.js';

const FILE = '/project/main.orch';
const TEXT = `capability charge { kind tool output { ok: bool } }
plan refund { step pay = charge() }
context { motion: bool max_age 2m }
source home { topic "a" sets motion from payload.v }
simulate context { motion stale 5% }
test "t" {
  plan refund
  mock charge where input.amount > 1 returns { ok: true }
  signal context.motion = true at 1s
  expect pay.completed and context.motion
}
`;

describe('the name index over v0.4 declarations', () => {
  it('refers a test’s plan, mocks and steps, and every signal set, to their declarations', () => {
    const { module, diagnostics } = parse({ file: FILE, text: TEXT });
    expect(diagnostics).toEqual([]);
    const index = buildFileIndex(module, FILE, { fileTable: () => undefined, stdTable: () => undefined, isStd: () => false });
    const after = (line: number) => index.references.filter((r) => r.range.start.line >= line).map((r) => `${r.range.start.line}:${r.name}:${r.kind}`);
    expect(after(4)).toEqual([
      '4:motion:field',
      '5:motion:field',
      '7:refund:plan',
      '8:charge:capability',
      '9:motion:field',
      '10:pay:step',
      '10:motion:field',
    ]);
  });
});
