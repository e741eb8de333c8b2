/**
 * `orch explain` for the codes of the always-fresh context (LANGUAGE.md §9.4): E0905.
 */
import type { Entries } from './entry.js';

export const CONTEXT = {
  E0905: {
    severity: 'error',
    title: 'derived signals that depend on each other, or a source mapping that does not fit its signal',
    details: `A derived context signal (\`name: T = expression\`) is recomputed whenever a signal it
reads changes or goes stale. When derived signals read each other in a circle, none of them has a
first value: the diagnostic names the cycle in order (\`a -> b -> a\`). Break it by making one of
them a signal that is set (by \`POST /signals\` or a \`source\`), or by computing it from the signals
the others read. A \`source\` mapping to a signal the context does not declare, or with a value of
another type, is this code too.`,
    trigger: `context {
  a: bool = context.b
  b: bool = context.a
}
`,
    fix: `context {
  motion: bool max_age 2m
  a: bool = context.motion
  b: bool = context.a
}
`,
    reference: 'LANGUAGE.md §9.4 An always-fresh context',
  },
} satisfies Entries;
