/**
 * Hover: a declaration's signature, doc comment and facts; the type the compiler inferred for
 * the expression under the cursor; for a step, its bound resource, rationale and estimates from
 * the compiled plan.
 */
import type { Hover, MarkupContent } from 'vscode-languageserver';
import { typeAt, type BoundModel } from '../../compiler/index.js';
import type { PlanIR } from '../../compiler/index.js';
import { formatDuration, moneyText } from '../../compiler/index.js';
import { toLspRange } from '../convert.js';
import { factsOf, signatureOf } from '../describe.js';
import type { OrchSymbol } from '../symbol-index/model.js';
import type { NameSource } from '../names.js';
import type { Module } from '../../language/index.js';
import { ANNOTATION_DOCS, BUILTIN_FUNCTIONS, EXPRESSION_ROOTS, KEYWORD_DOCS, RACE_ATTRIBUTES, REPEAT_ATTRIBUTES, STEP_ATTRIBUTES } from '../vocabulary.js';

export interface HoverContext {
  readonly names: NameSource;
  /** The AST-index symbol with this key (for its node: signature and facts), if indexed. */
  readonly indexed: (key: string, file: string) => OrchSymbol | undefined;
  readonly model: BoundModel | undefined;
  readonly plans: readonly PlanIR[];
  /** The file's last parse, for the blocks that declare no referable name (tests, sources). */
  readonly module?: Module;
}

const SHOW_TYPE = new Set(['step', 'item', 'field', 'input_field', 'context_field', 'param', 'output_field']);

export function hover(ctx: HoverContext, file: string, text: string, offset: number): Hover | null {
  const t = ctx.names.targetAt(file, offset);
  const type = ctx.model ? typeAt(ctx.model, file, offset) : undefined;
  if (t) {
    const sym = t.indexed ?? (t.declaration ? ctx.indexed(t.key, t.declaration.file) : undefined);
    const signature = sym ? signatureOf(sym) : (t.compiled?.detail ?? t.name);
    const lines = ['```orch', signature, '```'];
    const doc = sym?.doc ?? t.compiled?.doc;
    if (doc) lines.push('', doc);
    const facts = sym ? factsOf(sym) : [];
    const kind = t.compiled?.kind ?? sym?.kind ?? '';
    if (type && SHOW_TYPE.has(kind)) facts.unshift(`type: \`${type}\``);
    if (sym?.kind === 'step') facts.push(...stepFacts(sym, ctx));
    if (facts.length) lines.push('', ...facts.map((f) => `- ${f}`));
    return { contents: markdown(lines), range: toLspRange(t.range) };
  }
  const block = ctx.module ? blockNameHover(ctx.module, offset) : null;
  if (block) return block;
  if (type) return { contents: markdown(['```orch', type, '```']) };
  // Built-in words: step attributes, expression roots, functions, v0.4 keywords and annotations.
  const word = wordAt(text, offset);
  if (!word) return null;
  const before = text.slice(Math.max(0, word.start - 1), word.start);
  const doc = before === '.'
    ? (STEP_ATTRIBUTES[word.text] ?? RACE_ATTRIBUTES[word.text] ?? REPEAT_ATTRIBUTES[word.text])
    : before === '@' ? ANNOTATION_DOCS[word.text] : (EXPRESSION_ROOTS[word.text] ?? BUILTIN_FUNCTIONS[word.text] ?? KEYWORD_DOCS[word.text]);
  return doc ? { contents: markdown([`**${before === '@' ? '@' : ''}${word.text}** — ${doc}`]) } : null;
}

/** A test's or a source's name: what the block is (they declare nothing the name index holds). */
function blockNameHover(module: Module, offset: number): Hover | null {
  const within = (r: { start: { offset: number }; end: { offset: number } }) => r.start.offset <= offset && offset <= r.end.offset;
  for (const d of module.declarations) {
    if (d.kind === 'TestDecl' && within(d.name.range)) {
      const name = d.name.parts.filter((p): p is string => typeof p === 'string').join('');
      const facts = [`plan under test: \`${d.plan.parts.map((p) => p.name).join('.')}\``, `${d.mocks.length} mock(s), ${d.expects.length} expect(s)`];
      return { contents: markdown(['```orch', `test "${name}"`, '```', ...(d.doc ? ['', d.doc] : []), '', ...facts.map((f) => `- ${f}`)]), range: toLspRange(d.name.range) };
    }
    if (d.kind === 'SourceDecl' && typeof d.name?.name === 'string' && within(d.name.range)) {
      const topics = d.topics.map((t) => `topic "${t.topic.parts.filter((p): p is string => typeof p === 'string').join('')}" sets ${t.signal.name}`);
      return { contents: markdown(['```orch', `source ${d.name.name}`, '```', ...(d.doc ? ['', d.doc] : []), '', `- connection: orch.config "sources".${d.name.name}`, ...topics.map((t) => `- ${t}`)]), range: toLspRange(d.name.range) };
    }
  }
  return null;
}

/** The compiled step: where it runs and what it is estimated to cost. */
function stepFacts(step: OrchSymbol, ctx: HoverContext): string[] {
  const planName = planOf(step, ctx);
  const plan = ctx.plans.find((p) => p.plan === planName);
  const ir = plan?.steps.find((s) => s.id === step.name);
  if (!ir) return [];
  const facts: string[] = [];
  if (ir.binding.resource) {
    facts.push(`resource: **${ir.binding.resource}**${ir.binding.tier ? ` (${ir.binding.tier})` : ''} — ${ir.binding.rationale}`);
  } else if (ir.binding.rationale) {
    facts.push(`placement: ${ir.binding.rationale}`);
  }
  if (ir.binding.fallbacks.length) facts.push(`fallbacks: ${ir.binding.fallbacks.join(', ')}`);
  // In the program's currency, as `orch preview` writes it (compiler/preview.ts).
  facts.push(`estimate: cost ${moneyText(ir.estimates.cost, ctx.model?.currency ?? plan?.policy?.currency)}, duration ${formatDuration(ir.estimates.duration_ms)}`);
  facts.push(`stage: ${ir.stage}${ir.deps.length ? ` (after ${ir.deps.join(', ')})` : ''}`);
  // §9.3's labels, as the run journals them (`step_started.data.labels`) and guardrails read `step.data`.
  facts.push(`data: its output is of class **${ir.data}**`);
  if (ir.labels) {
    const from = ir.labels.sources.length ? ` — from ${ir.labels.sources.join(', ')}` : '';
    facts.push(`reads: class **${ir.labels.class}**, **${ir.labels.trusted ? 'trusted' : 'untrusted'}**${from}`);
  }
  return facts;
}

function planOf(step: OrchSymbol, ctx: HoverContext): string | undefined {
  let key = step.parent;
  for (let guard = 0; key && guard < 50; guard++) {
    const s = ctx.indexed(key, step.file);
    if (!s) return undefined;
    if (s.kind === 'plan') return s.name;
    key = s.parent;
  }
  return undefined;
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
