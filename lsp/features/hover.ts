/** Hover: a declaration's signature, doc comment and facts; a step's binding and estimates. */
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { toLspRange } from '../convert.js';
import { factsOf, signatureOf } from '../describe.js';
import type { FileIndex, OrchSymbol } from '../index/model.js';
import { STEP_ATTRIBUTES, BUILTIN_FUNCTIONS, EXPRESSION_ROOTS } from '../vocabulary.js';
import { targetAt, type NavigationHost } from './navigation.js';

/** Facts only compilation knows: a step's resource and estimates, an expression's type. */
export interface CompiledFacts {
  stepFacts(step: OrchSymbol): readonly string[];
  typeAt(file: string, offset: number): { type: string; range: import('../../language/diagnostic.js').Range } | undefined;
}

export function hover(host: NavigationHost, index: FileIndex, text: string, offset: number, compiled?: CompiledFacts): Hover | null {
  const t = targetAt(host, index, offset);
  const type = compiled?.typeAt(index.file, offset);
  if (t?.symbol) {
    const sym = t.symbol;
    const lines = ['```orch', signatureOf(sym), '```'];
    if (sym.doc) lines.push('', sym.doc);
    const facts = [...factsOf(sym), ...(sym.kind === 'step' && compiled ? compiled.stepFacts(sym) : [])];
    if (type && sym.kind !== 'capability' && sym.kind !== 'plan') facts.unshift(`type: \`${type.type}\``);
    if (facts.length) lines.push('', ...facts.map((f) => `- ${f}`));
    return { contents: markdown(lines), range: toLspRange(t.range) };
  }
  if (type) return { contents: markdown(['```orch', type.type, '```']), range: toLspRange(type.range) };
  // Built-in words: step attributes, expression roots, functions.
  const word = wordAt(text, offset);
  if (!word) return null;
  const before = text.slice(Math.max(0, word.start - 2), word.start);
  const doc =
    (before.endsWith('.') ? STEP_ATTRIBUTES[word.text] : undefined) ?? BUILTIN_FUNCTIONS[word.text] ?? (!before.endsWith('.') ? EXPRESSION_ROOTS[word.text] : undefined);
  return doc ? { contents: markdown([`**${word.text}** — ${doc}`]) } : null;
}

function markdown(lines: string[]): MarkupContent {
  return { kind: 'markdown', value: lines.join('\n') };
}

function wordAt(text: string, offset: number): { text: string; start: number } | undefined {
  let s = offset;
  while (s > 0 && /[A-Za-z0-9_]/.test(text[s - 1]!)) s--;
  let e = offset;
  while (e < text.length && /[A-Za-z0-9_]/.test(text[e]!)) e++;
  return e > s ? { text: text.slice(s, e), start: s } : undefined;
}
