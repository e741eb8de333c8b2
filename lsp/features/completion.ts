/**
 * Completion from the lexical cursor context (`scanContext`) plus the file's name index (which
 * may be a keystroke stale — names rarely change between keystrokes, and completion must not
 * wait for a re-parse of a large file).
 */
import { CompletionItemKind, InsertTextFormat, type CompletionItem } from 'vscode-languageserver';
import type { CapabilityDecl, FieldDecl, PlanDecl, RecordType, StepDecl, TypeExpr } from '../../language/index.js';
import { fieldsKey, contextFieldsKey } from '../symbol-index/declarations.js';
import type { DeclarationTable, FileIndex, OrchSymbol, OrchSymbolKind } from '../symbol-index/model.js';
import { signatureOf, typeText } from '../describe.js';
import {
  ANNOTATION_DOCS, BLOCK_KEYWORDS, BUILTIN_FUNCTIONS, CAPABILITY_KIND_WORDS, CLAUSE_KEYWORDS, EXPRESSION_ROOTS, LITERAL_WORDS, PRIMITIVE_TYPES, RESOURCE_KIND_WORDS,
  RACE_ATTRIBUTES, REPEAT_ATTRIBUTES, RUN_ATTRIBUTES, STEP_ATTRIBUTES, TOP_LEVEL_KEYWORDS, VALUE_WORDS,
} from '../vocabulary.js';
import { scanContext, type Frame } from './context-scan.js';

export interface CompletionEnv {
  readonly index: FileIndex | undefined;
  readonly stdModules: () => readonly string[];
}

const KIND_OF: Record<OrchSymbolKind, CompletionItemKind> = {
  module: CompletionItemKind.Module,
  alias: CompletionItemKind.Module,
  type: CompletionItemKind.TypeParameter,
  capability: CompletionItemKind.Function,
  resource: CompletionItemKind.Struct,
  policy: CompletionItemKind.Interface,
  guardrail: CompletionItemKind.Event,
  context: CompletionItemKind.Module,
  plan: CompletionItemKind.Class,
  trigger: CompletionItemKind.Event,
  invariant: CompletionItemKind.Constant,
  simulate: CompletionItemKind.Constant,
  step: CompletionItemKind.Variable,
  race: CompletionItemKind.Variable,
  repeat: CompletionItemKind.Variable,
  foreach: CompletionItemKind.Variable,
  item: CompletionItemKind.Variable,
  field: CompletionItemKind.Field,
};

const WORD_AT_END = /([A-Za-z_][A-Za-z0-9_]*)?$/;

export function complete(text: string, offset: number, env: CompletionEnv): CompletionItem[] {
  const ctx = scanContext(text, offset);
  if (ctx.inComment || ctx.inString) return [];
  const typed = WORD_AT_END.exec(ctx.linePrefix)?.[1] ?? '';
  const before = ctx.linePrefix.slice(0, ctx.linePrefix.length - typed.length);
  const frames = ctx.frames;
  const top = frames[frames.length - 1];
  const block = innermostBlock(frames);
  const index = env.index;
  const tested = testedPlan(text, frames);

  // Member access: `generate.output.`, `input.`, `devices.`
  const member = /([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\.\s*$/.exec(before);
  // A test's `signal context.X = V` sets a signal: a derived one is computed, not set (E0905).
  const setting = tested !== undefined && /^\s*signal\s+context\s*\.\s*$/.test(before);
  // `mock CAP where input.` (§9.2): the condition reads the call's input.
  const mocked = tested === undefined ? undefined : /^\s*mock\s+([A-Za-z_][A-Za-z0-9_.]*)\s+where\b/.exec(before)?.[1];
  if (member && mocked && index && /^\s*input\b/.test(member[1]!)) {
    return recordItems(walkRecord(capabilityWritten(index, mocked)?.input, member[1]!.split(/\s*\.\s*/).slice(1), index));
  }
  if (member) return memberItems(member[1]!.split(/\s*\.\s*/), offset, index, tested, watchedPlan(text, frames), setting, aliasTakes(before, frames));

  // Inside `${ … }` of a string: an expression.
  if (top?.header === '${') return expressionItems(index, offset, tested);

  // A test's values (§9.2): the keys of a mock's answer, of the test's `input`.
  const keys = index && /[{,]\s*$/.test(before) ? testValueKeys(index, frames, text, offset, tested) : undefined;
  if (keys) return keys;

  // §9.3's built-ins: `endorse(V, reason: …)`, `declassify(V, to: CLASS, reason: …)`.
  if (top?.bracket === '(' && (top.wordBefore === 'endorse' || top.wordBefore === 'declassify')) {
    if (top.wordBefore === 'declassify' && /\bto\s*:\s*$/.test(before)) return VALUE_WORDS.accepts!.map((v) => valueItem(v, 'data class'));
    if (/,\s*$/.test(text.slice(top.offset, offset - typed.length))) {
      const named = top.wordBefore === 'declassify' ? ['to', 'reason'] : ['reason'];
      return named.map((n) => ({ label: n, kind: CompletionItemKind.Field, detail: `${top.wordBefore} argument`, insertText: `${n}: ` }));
    }
  }

  // Argument names inside `capability(` or `run plan(`.
  if (top?.bracket === '(' && /[(,]$/.test(text.slice(top.offset, offset - typed.length).trimEnd())) {
    const target = index && resolveVisible(index, top.wordBefore, text, top.offset);
    if (target) return argumentItems(target, text.slice(top.offset + 1, offset));
  }

  const keywordBefore = /([A-Za-z_][A-Za-z0-9_]*)\s+$/.exec(before)?.[1];
  const listKeyword = /(\b[A-Za-z_][A-Za-z0-9_]*)\s+[A-Za-z_][A-Za-z0-9_.]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_.]*)*\s*,\s*$/.exec(before)?.[1];
  const header = block?.header ?? '';

  // Step action: `step x = |`
  if (/\bstep\s+[A-Za-z_][A-Za-z0-9_]*\s*=\s*$/.test(before)) {
    return [...symbolItems(index, ['capability']), keyword('wait'), keyword('run')];
  }
  // Type position inside a record type: `name: |`, `list<|`, `T |`.
  if (inTypeRecord(frames) && /(:|<|\|)\s*$/.test(before)) return typeItems(index);
  // A field's labels (§3, §9.3): `body: string @|`.
  if (inTypeRecord(frames) && before.endsWith('@')) {
    return Object.entries(ANNOTATION_DOCS).map(([a, doc]) => ({ label: a, kind: CompletionItemKind.EnumMember, detail: doc }));
  }
  // After a signal's type (§9.4): `motion: bool @personal |` takes `max_age`, a derived one `hold`.
  const field = /^\s*[A-Za-z_][A-Za-z0-9_]*\s*:\s*[^\s@=][^=]*?(=.*)?\s$/.exec(before);
  if (field && block?.header === 'context' && inTypeRecord(frames) && !/\b(max_age|hold)\s*$/.test(before)) {
    return [keyword('max_age'), ...(field[1] ? [keyword('hold')] : [])];
  }

  // `simulate context { SIGNAL stale N% }` (§9.4): the signals, then `stale`.
  if (header === 'simulate' && block?.wordBefore === 'context') {
    // The item being typed: from the block's `{` or the line's start, whichever is later.
    const item = text.slice(block.offset + 1, offset - typed.length).split('\n').pop()!;
    if (item.trim() === '') return settableSignals(index);
    return /^\s*[A-Za-z_][A-Za-z0-9_]*\s+$/.test(item) ? [keyword('stale')] : [];
  }

  const word = listKeyword ?? keywordBefore;
  if (word) {
    const items = valueItems(word, header, index, offset, env, tested);
    if (items) return items;
  }

  // Statement start inside a block: property keywords (plus expression names where valid).
  const atStatementStart = before.trim() === '' || /[{}"]\s*$/.test(before) || /\b\d+[a-z%]*\s+$/.test(before);
  if (!block) {
    return atStatementStart && frames.length === 0 ? TOP_LEVEL_KEYWORDS.map((k) => keyword(k)) : expressionItems(index, offset, tested);
  }
  if (block.record || inTypeRecord(frames)) return inTypeRecord(frames) ? [] : expressionItems(index, offset, tested);
  if (atStatementStart) {
    const words = BLOCK_KEYWORDS[header] ?? [];
    return words.map((k) => keyword(k));
  }
  // Inside a v0.4 item (`mock x returns { … } |`): the words that continue it, and values.
  const clauses = CLAUSE_KEYWORDS[/^\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(ctx.linePrefix)?.[1] ?? ''];
  if (clauses && (header === 'test' || header === 'source' || header === 'resource')) return [...clauses.map((k) => keyword(k)), ...expressionItems(index, offset, tested)];
  return expressionItems(index, offset, tested);
}

/** The file's context signals a message or a simulation sets: not a derived one, which is computed. */
function settableSignals(index: FileIndex | undefined): CompletionItem[] {
  return (index ? programSignals(index) : []).filter((f) => !(f.node as FieldDecl).default).map((f) => symbolItem(f));
}

/**
 * The context signals the file's program declares: a context is the program's, whichever file
 * declares it (the compiler merges every `context { … }` block), so the file's own and those of
 * the files it imports (a test's, the tested plan's file's).
 */
function programSignals(index: FileIndex): OrchSymbol[] {
  const byName = new Map<string, OrchSymbol>();
  for (const table of [index, ...index.tables.values()]) {
    for (const f of table.fields.get(contextFieldsKey(table.file))?.values() ?? []) if (!byName.has(f.name)) byName.set(f.name, f);
  }
  return [...byName.values()];
}

function innermostBlock(frames: readonly Frame[]): Frame | undefined {
  for (let i = frames.length - 1; i >= 0; i--) if (frames[i]!.bracket === '{' && frames[i]!.header !== '${') return frames[i];
  return undefined;
}

/** Inside `input { … }`, `output { … }` of a capability, `context { … }` or `type X = { … }`. */
function inTypeRecord(frames: readonly Frame[]): boolean {
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    if (f.bracket !== '{') continue;
    // A test's `input { … }` and `context { … }` are values, not types.
    if ((f.header === 'context' || f.header === 'input') && innermostBlock(frames.slice(0, i))?.header === 'test') return false;
    if (f.header === 'context' || f.header === 'type') return true;
    if (f.header === 'input') return true;
    if (f.header === 'output') return innermostBlock(frames.slice(0, i))?.header === 'capability';
    if (!f.record) return false;
  }
  return false;
}

function keyword(k: string, detail = 'keyword'): CompletionItem {
  return { label: k, kind: CompletionItemKind.Keyword, detail };
}

function valueItem(v: string, detail: string): CompletionItem {
  return { label: v, kind: CompletionItemKind.EnumMember, detail };
}

function symbolItem(sym: OrchSymbol, label = sym.name): CompletionItem {
  return {
    label,
    kind: KIND_OF[sym.kind],
    detail: signatureOf(sym),
    documentation: sym.doc ? { kind: 'markdown', value: sym.doc } : undefined,
  };
}

/** Visible symbols of the given kinds, plus `qualifier.name` for imported modules. */
function symbolItems(index: FileIndex | undefined, kinds: readonly OrchSymbolKind[]): CompletionItem[] {
  if (!index) return [];
  const out: CompletionItem[] = [];
  for (const sym of index.visible.values()) if (kinds.includes(sym.kind)) out.push(symbolItem(sym));
  for (const [q, table] of index.qualifiers) {
    for (const sym of table.topLevel.values()) if (kinds.includes(sym.kind)) out.push({ ...symbolItem(sym, `${q}.${sym.name}`), sortText: `~${q}.${sym.name}` });
  }
  return out;
}

/** Values after a property keyword (`kind |`, `policy |`, `on |`), by the block it is in. */
function valueItems(
  word: string, header: string, index: FileIndex | undefined, offset: number, env: CompletionEnv, tested?: string,
): CompletionItem[] | undefined {
  switch (word) {
    case 'kind':
      if (header === 'resource') return RESOURCE_KIND_WORDS.map((k) => valueItem(k, 'resource kind'));
      return CAPABILITY_KIND_WORDS.map((k) => valueItem(k, 'capability kind'));
    case 'on_failure':
      return (header === 'plan' ? ['abort', 'continue', 'rollback'] : ['abort', 'continue']).map((v) => valueItem(v, 'on failure'));
    case 'policy':
      return header === 'plan' ? symbolItems(index, ['policy']) : undefined;
    case 'guardrails':
      return symbolItems(index, ['guardrail']);
    case 'on':
      return header === 'step' ? symbolItems(index, ['resource']) : undefined;
    case 'run':
      return symbolItems(index, ['plan']);
    case 'plan':
      return header === 'test' ? symbolItems(index, ['plan']) : undefined;
    case 'mock':
      return header === 'test' ? symbolItems(index, ['capability']) : undefined;
    case 'sets':
      return header === 'source' ? settableSignals(index) : undefined;
    case 'approve':
    case 'reject':
      return header === 'test' ? stepItems(index, offset, tested) : undefined;
    case 'simulate':
      return [keyword('context'), ...symbolItems(index, ['capability'])];
    case 'fallback':
    case 'compensate':
    case 'rate_limit':
      return symbolItems(index, ['capability']);
    case 'capability':
      return header === 'guardrail' ? symbolItems(index, ['capability']) : undefined;
    case 'after':
      if (header === 'trigger') return symbolItems(index, ['plan']);
      return stepItems(index, offset);
    case 'before':
    case 'require':
    case 'check':
      if (header !== 'guardrail') return undefined;
      return [keyword('kind'), keyword('capability'), ...stepItems(index, offset)];
    case 'forbid':
      return header === 'guardrail' ? [{ label: 'step where', kind: CompletionItemKind.Keyword, insertText: 'step where ' }] : undefined;
    case 'requires':
    case 'provides':
      return tagItems(index);
    case 'import':
      return header === '' ? env.stdModules().map((m) => ({ label: m, kind: CompletionItemKind.Module })) : undefined;
    case 'for':
      return [keyword('each')];
    case 'wait':
      return [keyword('until')];
    default: {
      const values = VALUE_WORDS[word];
      // `data` is a capability property; elsewhere the word is a field name.
      if (values && (word !== 'data' || header === 'capability') && header !== '') return values.map((v) => valueItem(v, word));
      return undefined;
    }
  }
}

function tagItems(index: FileIndex | undefined): CompletionItem[] {
  const tags = new Set<string>();
  for (const table of index?.tables.values() ?? []) {
    for (const sym of table.symbols) {
      const n = sym.node as { kind: string; provides?: { name: string }[]; requires?: { name: string }[] };
      for (const t of n.provides ?? []) tags.add(t.name);
      for (const t of n.requires ?? []) tags.add(t.name);
    }
  }
  return [...tags].sort().map((t) => valueItem(t, 'resource tag'));
}

function typeItems(index: FileIndex | undefined): CompletionItem[] {
  return [
    ...PRIMITIVE_TYPES.map((t) => ({ label: t, kind: CompletionItemKind.TypeParameter, detail: 'type' })),
    ...symbolItems(index, ['type']),
  ];
}

/** The plan (symbol) whose range contains the offset. */
function planAt(index: FileIndex | undefined, offset: number): OrchSymbol | undefined {
  return index?.symbols.find((s) => s.kind === 'plan' && s.range.start.offset <= offset && offset <= s.range.end.offset);
}

/**
 * The plan whose steps a name at `offset` reads, and the declarations it is in: the plan around
 * it, or inside a `test` block the plan under test (§9.2: `plan refunds.refund_flow` names one of
 * another file, whose steps its `expect`, `approve` and `reject` read). `tested` is that name as
 * the block's text writes it, read lexically: a test being typed rarely parses.
 */
function scopePlan(index: FileIndex | undefined, offset: number, tested?: string): { plan: OrchSymbol; table: DeclarationTable } | undefined {
  if (!index) return undefined;
  const own = planAt(index, offset);
  if (own) return { plan: own, table: index };
  const plan = tested === undefined ? undefined : resolvePlan(index, tested);
  return plan ? { plan, table: index.tables.get(plan.file) ?? index } : undefined;
}

/** A plan as this file writes it, `name` or `alias.name`. */
function resolvePlan(index: FileIndex, written: string): OrchSymbol | undefined {
  const parts = written.split('.');
  const last = parts[parts.length - 1]!;
  const plan = parts.length === 1 ? index.visible.get(last) : index.qualifiers.get(parts.slice(0, -1).join('.'))?.topLevel.get(last);
  return plan?.kind === 'plan' ? plan : undefined;
}

/** The plan an `after` trigger the cursor is in watches, as written. */
function watchedPlan(text: string, frames: readonly Frame[]): string | undefined {
  const trigger = frames.find((f) => f.bracket === '{' && f.header === 'trigger');
  if (!trigger) return undefined;
  return /\bafter\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(text.slice(trigger.offset + 1, trigger.offset + 2000))?.[1];
}

/**
 * At a key of a test's record value, the fields not yet given: of the mocked capability's output
 * in `mock CAP returns { … }` (and `then { … }`), of the tested plan's input in `input { … }`.
 */
function testValueKeys(index: FileIndex, frames: readonly Frame[], text: string, offset: number, tested: string | undefined): CompletionItem[] | undefined {
  const at = frames.length - 1;
  const top = frames[at];
  if (!tested || top?.bracket !== '{' || innermostBlock(frames.slice(0, at))?.header !== 'test') return undefined;
  let record: RecordType | undefined;
  let fields: readonly FieldDecl[] | undefined;
  if (top.header === 'mock' && (top.wordBefore === 'returns' || top.wordBefore === 'then')) {
    const lineStart = text.lastIndexOf('\n', top.offset) + 1;
    const cap = /^\s*mock\s+([A-Za-z_][A-Za-z0-9_.]*)/.exec(text.slice(lineStart, top.offset))?.[1];
    record = cap ? (capabilityWritten(index, cap)?.output as RecordType | undefined) : undefined;
  } else if (top.header === 'input' && top.wordBefore === 'input') {
    const scope = scopePlan(index, offset, tested);
    record = scope ? ((scope.plan.node as PlanDecl).input as RecordType | undefined) : undefined;
  } else if (top.header === 'context' && top.wordBefore === 'context') {
    // The signals the run starts with (§9.2): the tested plan's file's, not a derived one (computed).
    fields = programSignals(index).map((f) => f.node as FieldDecl).filter((f) => !f.default);
  }
  if (record?.kind === 'RecordType') fields = record.fields;
  if (!fields) return undefined;
  const given = new Set([...text.slice(top.offset + 1, offset).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*:/g)].map((m) => m[1]!));
  return fields.filter((f) => !given.has(f.name.name)).map((f) => ({
    label: f.name.name, kind: CompletionItemKind.Field, detail: typeText(f.type),
    insertText: `${f.name.name}: `, documentation: f.doc ? { kind: 'markdown', value: f.doc } : undefined,
  }));
}

/** A capability as this file writes it, `name` or `alias.name`. */
function capabilityWritten(index: FileIndex, written: string): CapabilityDecl | undefined {
  const parts = written.split('.');
  const sym = parts.length === 1 ? index.visible.get(parts[0]!) : index.qualifiers.get(parts.slice(0, -1).join('.'))?.topLevel.get(parts[parts.length - 1]!);
  return sym?.kind === 'capability' ? (sym.node as CapabilityDecl) : undefined;
}

/** The fields of a record type, as completion items. */
function recordItems(record: RecordType | undefined): CompletionItem[] {
  return record ? record.fields.map((f) => ({
    label: f.name.name, kind: CompletionItemKind.Field, detail: typeText(f.type),
    documentation: f.doc ? { kind: 'markdown', value: f.doc } : undefined,
  })) : [];
}

/** The `plan P` line of the `test` block the cursor is in, if any. */
function testedPlan(text: string, frames: readonly Frame[]): string | undefined {
  const test = frames.find((f) => f.bracket === '{' && f.header === 'test');
  if (!test) return undefined;
  return /^\s*plan\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)/m.exec(text.slice(test.offset + 1, test.offset + 4000))?.[1];
}

function stepItems(index: FileIndex | undefined, offset: number, tested?: string): CompletionItem[] {
  if (!index) return [];
  const scope = scopePlan(index, offset, tested);
  const steps = scope ? scope.table.steps.get(scope.plan.key) : undefined;
  const all = steps ? [...steps.values()] : [...index.steps.values()].flatMap((m) => [...m.values()]);
  return all.map((s) => symbolItem(s));
}

function expressionItems(index: FileIndex | undefined, offset: number, tested?: string): CompletionItem[] {
  const items: CompletionItem[] = [...stepItems(index, offset, tested)];
  if (index) {
    for (const s of index.symbols) {
      if (s.kind === 'item' && s.range.start.offset <= offset) {
        const loop = index.byKey.get(s.parent ?? '');
        if (loop && offset <= loop.range.end.offset) items.push(symbolItem(s));
      }
    }
  }
  for (const [root, doc] of Object.entries(EXPRESSION_ROOTS)) items.push({ label: root, kind: CompletionItemKind.Variable, detail: doc });
  for (const [fn, doc] of Object.entries(BUILTIN_FUNCTIONS)) {
    items.push({ label: fn, kind: CompletionItemKind.Function, detail: doc, insertText: `${fn}($1)`, insertTextFormat: InsertTextFormat.Snippet });
  }
  for (const w of LITERAL_WORDS) items.push(keyword(w));
  return items;
}

/** The capability or plan called at `name(` (possibly `alias.name(`), as visible from this file. */
export function resolveVisible(index: FileIndex, name: string, text: string, parenOffset: number): OrchSymbol | undefined {
  // `devices.turn_off(` — look at the qualifier before the name.
  const m = /([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*[A-Za-z_][A-Za-z0-9_]*\s*$/.exec(text.slice(Math.max(0, parenOffset - 200), parenOffset));
  if (m) return index.qualifiers.get(m[1]!)?.topLevel.get(name);
  return index.visible.get(name);
}

/** `name: type` snippets for the arguments not yet given. */
function argumentItems(target: OrchSymbol, argsText: string): CompletionItem[] {
  const given = new Set([...argsText.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*:/g)].map((m) => m[1]!));
  const input = (target.node as CapabilityDecl | PlanDecl).input as RecordType | undefined;
  if (!input) return [];
  return input.fields
    .filter((f) => !given.has(f.name.name))
    .map((f, i) => {
      const required = !f.default && f.type.kind !== 'OptionalType';
      return {
        label: `${f.name.name}:`,
        filterText: f.name.name,
        kind: CompletionItemKind.Property,
        detail: `${typeText(f.type)}${f.dataClass ? ` @${f.dataClass}` : ''}${required ? ' (required)' : ' (optional)'}`,
        documentation: f.doc ? { kind: 'markdown', value: f.doc } : undefined,
        insertText: `${f.name.name}: $1`,
        insertTextFormat: InsertTextFormat.Snippet,
        sortText: `${required ? 0 : 1}${String(i).padStart(3, '0')}`,
      } satisfies CompletionItem;
    });
}

/** What a name after an import's alias must be where it stands: a test's `plan` and a `run` name a plan, a test's `mock` and `calls(…)` a capability. */
function aliasTakes(before: string, frames: readonly Frame[]): OrchSymbolKind | undefined {
  const inTest = frames.some((f) => f.bracket === '{' && f.header === 'test');
  if (/\brun\s+[A-Za-z_][A-Za-z0-9_]*\s*\.\s*$/.test(before) || (inTest && /^\s*plan\s+[A-Za-z_][A-Za-z0-9_]*\s*\.\s*$/.test(before))) return 'plan';
  return inTest && /(^\s*mock\s+|\bcalls\s*\(\s*)[A-Za-z_][A-Za-z0-9_]*\s*\.\s*$/.test(before) ? 'capability' : undefined;
}

function memberItems(
  path: readonly string[], offset: number, index: FileIndex | undefined, tested?: string, watched?: string, setting = false, aliasKind?: OrchSymbolKind,
): CompletionItem[] {
  if (!index) return [];
  const [root, ...rest] = path;
  if (!root) return [];
  const fieldItems = (table: DeclarationTable | undefined, key: string): CompletionItem[] =>
    [...(table?.fields.get(key)?.values() ?? [])].map((f) => symbolItem(f));

  const qualifier = index.qualifiers.get(root);
  if (qualifier && rest.length === 0) return [...qualifier.topLevel.values()].filter((s) => !aliasKind || s.kind === aliasKind).map((s) => symbolItem(s));

  if (root === 'input' && rest.length === 0) {
    const plan = planAt(index, offset);
    return plan ? fieldItems(index, fieldsKey(plan.key, 'input')) : [];
  }
  if (root === 'context' && rest.length === 0) {
    return programSignals(index).filter((f) => !setting || !(f.node as FieldDecl).default).map((f) => symbolItem(f));
  }
  // An `after` trigger's `event.output` is the watched plan's output (§9.1): the keys it gives.
  if (root === 'event' && rest.length === 1 && rest[0] === 'output' && watched) {
    const plan = resolvePlan(index, watched);
    const out = plan ? (plan.node as PlanDecl).output : undefined;
    return out ? out.fields.map((f) => ({ label: f.key.name, kind: CompletionItemKind.Field, detail: `output of plan ${plan!.name}` })) : [];
  }
  if (root === 'run' && rest.length === 0) {
    return Object.entries(RUN_ATTRIBUTES).map(([a, doc]) => ({ label: a, kind: CompletionItemKind.Property, detail: doc }));
  }
  // A test's `run.output` is the tested plan's output (§9.2): the keys it gives.
  if (root === 'run' && rest.length === 1 && rest[0] === 'output' && tested) {
    const plan = resolvePlan(index, tested);
    const out = plan ? (plan.node as PlanDecl).output : undefined;
    return out ? out.fields.map((f) => ({ label: f.key.name, kind: CompletionItemKind.Field, detail: `output of plan ${plan!.name}` })) : [];
  }

  const scope = scopePlan(index, offset, tested);
  const steps = scope ? scope.table.steps.get(scope.plan.key) : undefined;
  const step = steps?.get(root) ?? [...index.steps.values()].map((m) => m.get(root)).find(Boolean);
  if (step && (step.kind === 'race' || step.kind === 'repeat')) {
    if (rest.length > 0) return [];
    return Object.entries(step.kind === 'race' ? RACE_ATTRIBUTES : REPEAT_ATTRIBUTES).map(([a, doc]) => ({ label: a, kind: CompletionItemKind.Property, detail: doc }));
  }
  if (step) {
    if (rest.length === 0) {
      return Object.entries(STEP_ATTRIBUTES).map(([a, doc]) => ({ label: a, kind: CompletionItemKind.Property, detail: doc }));
    }
    // `.output.` the capability's answer; `.input.` what it was called with (a test's `charge.input.amount`).
    if (rest[0] === 'output' || rest[0] === 'input') {
      const shape = recordOfStep(step, index, rest[0]);
      return recordItems(walkRecord(shape?.type, rest.slice(1), shape?.table ?? index));
    }
  }
  return [];
}

/** The input or output type of a step's capability, and the declarations its type names resolve in. */
function recordOfStep(step: OrchSymbol, index: FileIndex, role: 'input' | 'output'): { type: TypeExpr | undefined; table: DeclarationTable } | undefined {
  const node = step.node as StepDecl;
  if (node.action.kind !== 'CapabilityCall') return undefined;
  const parts = node.action.capability.parts.map((p) => p.name);
  // A step of another file (a test's plan) calls a capability of its own file's: look it up there.
  const cap = step.file !== index.file
    ? (parts.length === 1 ? index.tables.get(step.file)?.topLevel.get(parts[0]!) : undefined)
    : parts.length === 1 ? index.visible.get(parts[0]!) : index.qualifiers.get(parts.slice(0, -1).join('.'))?.topLevel.get(parts[parts.length - 1]!);
  if (cap?.kind !== 'capability') return undefined;
  return { type: (cap.node as CapabilityDecl)[role], table: index.tables.get(cap.file) ?? index };
}

/** Follows `.a.b` through record types (and local aliases) to the record whose fields to offer. */
function walkRecord(type: TypeExpr | undefined, path: readonly string[], table: DeclarationTable): RecordType | undefined {
  let t = type;
  for (let guard = 0; t && guard < 20; guard++) {
    if (t.kind === 'OptionalType') t = t.inner;
    else if (t.kind === 'ListType') t = t.element;
    else if (t.kind === 'NamedType') {
      const alias = table.topLevel.get(t.name.parts[t.name.parts.length - 1]!.name);
      t = alias?.kind === 'type' ? (alias.node as { type: TypeExpr }).type : undefined;
    } else break;
  }
  if (t?.kind !== 'RecordType') return undefined;
  if (path.length === 0) return t;
  const field = t.fields.find((f) => f.name.name === path[0]);
  return field ? walkRecord(field.type, path.slice(1), table) : undefined;
}
