/**
 * Issue 47 item 12, the compiler's share: what preview, diff and check say in the small cases a
 * security review and a new user met.
 */
import { describe, expect, it } from 'vitest';
import { preview, renderPreviewText } from '../index.js';
import { BASE, compileText } from './helpers.js';

describe('orch preview of an approval step', () => {
  it('shows who decides, how many distinct people, and that the starter is left out', () => {
    const out = compileText(`${BASE}\nplan p {\n  step ok = approval(approver: "group:finance", summary: "go?", approvals: 2, not_starter: true)\n}\n`);
    const p = preview(out.plans[0]!);
    expect(p.steps[0]!.approval).toEqual({ approver: 'group:finance', approvals: 2, not_starter: true });
    expect(renderPreviewText(p, false)).toContain('approval by group:finance: 2 distinct people, not the one who started the run');
    const plain = preview(compileText(`${BASE}\nplan p { step ok = approval(approver: "ann", summary: "go?") }\n`).plans[0]!);
    expect(renderPreviewText(plain, false)).toContain('approval by ann: one person\n');
  });
});
