/**
 * LANGUAGE.md §9.4: `source NAME { topic "T" sets SIGNAL [from EXPR] [at EXPR] … }`, checked from
 * the files alone (the connection is orch.config's, read by `orch serve`). Each mapping sets a
 * declared, non-derived context signal; its value expression (default `payload`) reads `payload`
 * (`any`) and `topic` (string) and must have the signal's type; `at`, the sample's time, is a
 * number (epoch ms) or a string (ISO time). A topic filter's `+` and `#` stand alone in their
 * level, `#` last. Every error of a mapping is E0905 at its part that is wrong; a source name
 * declared twice is E0102.
 */
import type { SourceDecl, TopicMapping } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import type { ContextSignalIR, ExprIR, SourceIR } from '../ir/types.js';
import type { LoadedModule } from '../loaded-module.js';
import type { ModelBuilder } from '../model.js';
import { assignable, formatTy, T, type Ty } from '../types/ty.js';
import { derivedSetDiagnostic, referSignal } from './context-signals.js';
import { checkExpr, type RootInfo } from './expr.js';

const ROOTS: ReadonlyMap<string, RootInfo> = new Map<string, RootInfo>([
  ['payload', { ty: T.any, ir: { op: 'var', name: 'payload' } }],
  ['topic', { ty: T.string, ir: { op: 'var', name: 'topic' } }],
]);

/** Why a topic filter is not well-formed, or null (MQTT 3.1.1 §4.7). */
export function topicFilterProblem(topic: string): string | null {
  if (topic.length === 0) return 'a topic filter is not empty';
  if (topic.includes('\u0000')) return 'a topic filter holds no NUL character';
  const levels = topic.split('/');
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return '"#" stands alone as the last level of a topic filter';
    if (level.includes('+') && level !== '+') return '"+" stands alone in its level of a topic filter';
  }
  return null;
}

export function sourcesOf(
  modules: readonly LoadedModule[],
  root: RootInfo,
  signals: { readonly [name: string]: ContextSignalIR },
  model: ModelBuilder,
  diags: Diagnostic[],
): { readonly [name: string]: SourceIR } {
  const out: Record<string, SourceIR> = {};
  const first = new Map<string, { readonly file: string; readonly decl: SourceDecl }>();
  const fields = root.ty.k === 'record' ? root.ty.fields : new Map<string, { readonly ty: Ty }>();
  for (const m of modules) {
    for (const d of m.ast.declarations) {
      if (d.kind !== 'SourceDecl') continue;
      const s = d as SourceDecl;
      const topics = s.topics.map((t) => {
        referSignal(root, model, m.file, t.signal);
        return mapping(t, m.file, fields, signals, model, diags);
      }).filter((t) => t !== null);
      // One connection per name in orch.config "sources", whichever module declares it: a second
      // block of that name is a duplicate declaration (§5's E0102), its mappings still checked.
      const prior = first.get(s.name.name);
      if (prior) {
        const at = prior.decl.name.range.start.line;
        diags.push(
          diagnostic('E0102', `duplicate source "${s.name.name}" (first declared ${prior.file === m.file ? `on line ${at}` : `in ${prior.file}:${at}`})`, m.file, s.name.range, {
            related: [{ message: 'first declared here', file: prior.file, range: prior.decl.name.range }],
          }),
        );
        continue;
      }
      first.set(s.name.name, { file: m.file, decl: s });
      out[s.name.name] = { topics };
    }
  }
  return out;
}

function mapping(
  t: TopicMapping,
  file: string,
  fields: ReadonlyMap<string, { readonly ty: Ty }>,
  signals: { readonly [name: string]: ContextSignalIR },
  model: ModelBuilder,
  diags: Diagnostic[],
): SourceIR['topics'][number] | null {
  const problem = topicFilterProblem(topicText(t));
  if (problem) diags.push(diagnostic('E0905', `topic "${topicText(t)}": ${problem}`, file, t.topic.range));
  const name = t.signal.name;
  const want = fields.get(name)?.ty;
  const env = { file, model, diags, roots: ROOTS };
  const value = t.from ? checkExpr(t.from, env) : { ty: T.any, ir: { op: 'var', name: 'payload' } satisfies ExprIR };
  const at = t.at ? checkExpr(t.at, env) : null;
  if (at && !(['any', 'number', 'int', 'string'] as const).some((k) => at.ty.k === k))
    diags.push(diagnostic('E0905', `the sample's time (at) is ${formatTy(at.ty)}: give epoch milliseconds (number) or an ISO time (string)`, file, t.at!.range));
  if (!want) {
    diags.push(diagnostic('E0905', `source topic "${topicText(t)}" sets "${name}", which is not a declared context signal`, file, t.signal.range));
    return null;
  }
  const derived = derivedSetDiagnostic(signals, name, 'a source', file, t.signal.range);
  if (derived) {
    diags.push(derived);
    return null;
  }
  if (!assignable(value.ty, want)) {
    diags.push(diagnostic('E0905', `source topic "${topicText(t)}" sets "${name}" (${formatTy(want)}) from a value of type ${formatTy(value.ty)}`, file, (t.from ?? t.signal).range));
    return null;
  }
  return { topic: topicText(t), signal: name, from: value.ir, at: at?.ir ?? null };
}

/** A topic is written without interpolation (the grammar's promise); its literal text. */
function topicText(t: TopicMapping): string {
  return t.topic.parts.filter((p) => typeof p === 'string').join('');
}
