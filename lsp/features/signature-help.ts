/** Signature help inside `capability(` and `run plan(`: the parameters, the one being written. */
import type { SignatureHelp } from 'vscode-languageserver';
import type { CapabilityDecl, PlanDecl } from '../../language/index.js';
import { fieldText, typeText } from '../describe.js';
import type { FileIndex } from '../symbol-index/model.js';
import { resolveVisible } from './completion.js';
import { scanContext } from './context-scan.js';

export function signatureHelp(text: string, offset: number, index: FileIndex | undefined): SignatureHelp | null {
  if (!index) return null;
  const ctx = scanContext(text, offset);
  if (ctx.inString || ctx.inComment) return null;
  const call = [...ctx.frames].reverse().find((f) => f.bracket === '(');
  if (!call || call !== ctx.frames[ctx.frames.length - 1]) return null;
  const target = resolveVisible(index, call.wordBefore, text, call.offset);
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
