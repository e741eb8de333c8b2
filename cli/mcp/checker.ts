/**
 * The `check` tool's compiler session: like `orch check` (every phase, the same diagnostics),
 * but kept between calls as the language server keeps it — each file is parsed incrementally
 * from its previous text, and plans an edit did not touch are not checked again (one memo per
 * entry file). An assistant checks the same files over and over while it writes.
 */
import { resolve } from 'node:path';
import { checkLoading, PlanMemo, unusedAcrossChecks, type SourceHost } from '../../compiler/index.js';
import { compareDiagnostics, type Diagnostic } from '../../language/index.js';
import { ParseCache } from '../../lsp/index.js';

export class CheckSession {
  private readonly parses = new ParseCache();
  private readonly memos = new Map<string, PlanMemo>();

  /** Diagnostics of `entries` (compiler paths), their texts from `texts` (by absolute path), imports from `imports`. */
  check(entries: readonly string[], texts: ReadonlyMap<string, string>, imports: SourceHost): Diagnostic[] {
    const host = { readFile: (p: string) => texts.get(resolve(p)) ?? imports.readFile(p), parse: this.parses.parse };
    const seen = new Set<string>();
    const out: Diagnostic[] = [];
    const checks = entries.map((entry) => {
      const key = resolve(entry);
      let memo = this.memos.get(key);
      if (!memo) this.memos.set(key, (memo = new PlanMemo()));
      return checkLoading({ entry, host, memo });
    });
    // A declaration one checked file uses is not unused because another, checked alone, is (as `orch check` says).
    const keep = unusedAcrossChecks(checks);
    for (const c of checks) {
      for (const d of c.diagnostics) {
        // The same finding reached from two entries (an imported file) is reported once, as `orch check` does.
        const id = `${resolve(d.file)}\u0000${d.range.start.offset}\u0000${d.range.end.offset}\u0000${d.code}\u0000${d.message}`;
        if (seen.has(id) || !keep(d)) continue;
        seen.add(id);
        out.push(d);
      }
    }
    return out.sort(compareDiagnostics);
  }
}
