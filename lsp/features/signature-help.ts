/**
 * Signature help inside `capability(`, `run plan(` and a built-in function's `len(`: the
 * parameters, the one being written.
 */
import type { SignatureHelp, SignatureInformation } from 'vscode-languageserver';
import type { CapabilityDecl, PlanDecl } from '../../language/index.js';
import { fieldText, typeText } from '../describe.js';
import type { FileIndex } from '../symbol-index/model.js';
import { BUILTIN_FUNCTIONS } from '../vocabulary.js';
import { resolveVisible } from './completion.js';
import { scanContext } from './context-scan.js';

export function signatureHelp(text: string, offset: number, index: FileIndex | undefined): SignatureHelp | null {
  if (!index) return null;
  const ctx = scanContext(text, offset);
  if (ctx.inString || ctx.inComment) return null;
  const call = [...ctx.frames].reverse().find((f) => f.bracket === '(');
  if (!call || call !== ctx.frames[ctx.frames.length - 1]) return null;
  const target = resolveVisible(index, call.wordBefore, text, call.offset);
  if (!target && Object.hasOwn(BUILTIN_FUNCTIONS, call.wordBefore)) {
    return builtinHelp(BUILTIN_FUNCTIONS[call.wordBefore]!, topLevelCommas(text.slice(call.offset + 1, offset)));
  }
  if (!target || (target.kind !== 'capability' && target.kind !== 'plan')) return null;
  const node = target.node as CapabilityDecl | PlanDecl;
  const fields = node.input?.fields ?? [];

  let label = `${target.name}(`;
  const parameters = fields.map((f, i) => {
    const start = label.length;
    label += fieldText(f);
    const end = label.length;
    if (i < fields.length - 1) label += ', ';
    return { label: [start, end] as [number, number], documentation: f.doc };
  });
  label += ')';
  if (node.kind === 'CapabilityDecl') label += ` -> ${typeText(node.output)}`;

  // The argument being written: the name before `:` after the last top-level comma, else the
  // first parameter not given yet.
  const args = text.slice(call.offset + 1, offset);
  const current = args.split(',').pop() ?? '';
  const named = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/.exec(current)?.[1];
  const given = new Set([...args.matchAll(/(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/g)].map((m) => m[1]!));
  let active = named ? fields.findIndex((f) => f.name.name === named) : fields.findIndex((f) => !given.has(f.name.name));
  if (active < 0) active = 0;
  return {
    signatures: [{ label, documentation: target.doc ? { kind: 'markdown', value: target.doc } : undefined, parameters }],
    activeSignature: 0,
    activeParameter: active,
  };
}

/**
 * A built-in's help from its line in the vocabulary (`min(a, b, …) or min(list): smallest value`):
 * one signature per form, each parameter a range of its label. The active parameter is the
 * argument being written; past the last one it stays on a trailing `…` (more of the same), and a
 * form with fewer parameters than arguments given is not the active one.
 */
function builtinHelp(line: string, argument: number): SignatureHelp {
  const colon = line.indexOf('): ');
  const forms = line.slice(0, colon + 1).split(' or ');
  const doc = line.slice(colon + 3);
  const signatures: SignatureInformation[] = forms.map((label) => {
    const open = label.indexOf('(');
    const inner = label.slice(open + 1, -1);
    const parameters: { label: [number, number] }[] = [];
    let at = open + 1;
    for (const part of inner === '' ? [] : inner.split(', ')) {
      parameters.push({ label: [at, at + part.length] });
      at += part.length + 2;
    }
    return { label, documentation: doc, parameters };
  });
  const fits = (s: SignatureInformation) => s.parameters!.length > argument || s.label.endsWith('…)');
  const active = Math.max(0, signatures.findIndex(fits));
  const count = signatures[active]!.parameters!.length;
  return { signatures, activeSignature: active, activeParameter: Math.min(argument, Math.max(0, count - 1)) };
}

/** Commas of `args` outside brackets and strings: the index of the argument being written. */
function topLevelCommas(args: string): number {
  let depth = 0;
  let commas = 0;
  let quoted = false;
  for (let i = 0; i < args.length; i++) {
    const ch = args[i]!;
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) commas++;
  }
  return commas;
}
