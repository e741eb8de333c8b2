/**
 * The std `approval` capability's people inputs (LANGUAGE.md §8.8), as far as literals tell:
 * `approvals` is an integer of at least 1, `approver` names a user or `group:NAME`, and more
 * than one approval needs a group (E0201).
 * Their types (`int`, `bool`, `string`) are checked like any argument; computed values are
 * checked when the step starts (the step fails with the reason).
 */
import type { CapabilityCall, Expr } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';

/** `builtin`: the capability's std built-in (builtinOf), so a refinement of `approval` is held too. */
export function approvalArgWarnings(builtin: string | null, call: CapabilityCall, file: string, diags: Diagnostic[]): void {
  if (builtin !== 'approval') return;
  // One named user is one person: more than one approval could never be given.
  const user = literalString(call.args.find((a) => a.name.name === 'approver')?.value);
  const count = call.args.find((a) => a.name.name === 'approvals');
  const n = count ? literalNumber(count.value) : null;
  if (user !== null && user !== '' && !user.startsWith('group:') && n !== null && Number.isInteger(n) && n > 1)
    diags.push(diagnostic('E0201', `approvals: ${n} needs ${n} distinct people, but approver "${user}" names one user: name a group ("group:NAME")`, file, count!.value.range));
  for (const arg of call.args) {
    if (arg.name.name === 'approvals') {
      const n = literalNumber(arg.value);
      if (n !== null && Number.isInteger(n) && n < 1)
        diags.push(diagnostic('E0201', `approvals must be an integer of at least 1 (the number of distinct people who must approve), got ${n}`, file, arg.value.range));
    }
    if (arg.name.name === 'approver') {
      const v = arg.value;
      if (v.kind !== 'StringLit' || v.parts.some((p) => typeof p !== 'string')) continue;
      if (approverNamesNobody(v.parts.join('')))
        diags.push(diagnostic('E0201', APPROVER_NAMES_NOBODY, file, v.range));
    }
  }
}

export const APPROVER_NAMES_NOBODY = `approver must name a user ("alice") or a group ("group:finance")`;

/**
 * Whether an `approver` value names nobody (`""`, `"group:"`). One rule for the literal the
 * compiler sees and the value the runtime computes: a computed blank would otherwise read as "no
 * approver", which lets anyone with the approver role decide.
 */
export function approverNamesNobody(text: string): boolean {
  const t = text.trim();
  return t === '' || t === 'group:' || (t.startsWith('group:') && t.slice('group:'.length).trim() === '');
}

/** A string literal without interpolation, trimmed; null for anything computed. */
function literalString(e: Expr | undefined): string | null {
  if (!e || e.kind !== 'StringLit' || e.parts.some((p) => typeof p !== 'string')) return null;
  return e.parts.join('').trim();
}

/** A number literal, negated or parenthesized; null for anything computed. */
function literalNumber(e: Expr): number | null {
  if (e.kind === 'NumberLit') return e.value;
  if (e.kind === 'ParenExpr') return literalNumber(e.inner);
  if (e.kind === 'UnaryExpr' && e.op === '-') {
    const n = literalNumber(e.operand);
    return n === null ? null : -n;
  }
  return null;
}
