/**
 * Issue 47 (item 12): span attributes carry a cost as a person would write it — a sum of prices
 * (0.00005 + 0.0000195) was exported as 6.950000000000001e-05.
 */
import { describe, expect, it } from 'vitest';
import { genAiAttributes } from '../telemetry/gen-ai.js';
import { attemptAttributes, stepAttributes, tidyCost } from '../telemetry/span-records.js';

const noisy = 0.00005 + 0.0000195;

describe('orch.cost on spans', () => {
  it('is the sum without float noise on step, attempt and model-call attributes', () => {
    expect(noisy).not.toBe(0.0000695);
    expect(tidyCost(noisy)).toBe(0.0000695);
    expect(stepAttributes(['r', 'p'], 's', null, 'tool', noisy, 1, 'completed', null)['orch.cost']).toBe(0.0000695);
    expect(attemptAttributes(['r', 'p'], 's', 1, 'c', null, 0, false, noisy, null)['orch.cost']).toBe(0.0000695);
    // A model's reported cost arrives as an extra attribute and wins: tidied too.
    expect(attemptAttributes(['r', 'p'], 's', 1, 'c', null, 0, false, 0, { 'orch.cost': noisy })['orch.cost']).toBe(0.0000695);
    expect(genAiAttributes({ model: 'm', input_tokens: 1, output_tokens: 1, cost: noisy })['orch.cost']).toBe(0.0000695);
    // Small and large figures keep their digits.
    expect(tidyCost(0.000000123456)).toBe(0.000000123456);
    expect(tidyCost(1234.5)).toBe(1234.5);
  });
});
