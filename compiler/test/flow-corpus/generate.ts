/**
 * The corpus: pairs of plans composed from the three tables — a source, a sink, a hop — and a
 * fix. The violating plan carries exactly one flow from the source to the sink; its twin is the
 * same plan with the fix made, and must check clean. Every applicable (source, sink, hop, fix) is
 * a candidate; the corpus is a greedy cover of every pair of those four dimensions (so each
 * source meets each sink, each hop and each fix, and so on), topped up with seeded picks to
 * `MIN_PAIRS`. `full` takes one pair per (source, sink, hop) instead: the whole product.
 */
import { createHash } from 'node:crypto';
import { HOPS, type Hop } from './hops.js';
import { unmark, type Span } from './marks.js';
import { chooser, CODE, Inapplicable, type Env, type FixId, type Label } from './model.js';
import { Program } from './program.js';
import { SINKS, type Sink } from './sinks.js';
import { SOURCES, type Source } from './sources.js';

export const DEFAULT_SEED = 'orch-flow-corpus-1';
export const MIN_PAIRS = 320;

export interface Located {
  readonly file: string;
  readonly span: Span;
}

export interface Violation {
  readonly code: 'E0902' | 'E0903';
  /** The argument or the `when` the finding must stand in. */
  readonly sink: Located;
  /** Where the source is declared or called (what the witness's last hop should point at). */
  readonly source: Located | null;
  /** The words the witness path must name: the source (`input.u_text`, a step id), and a tainted step's own source. */
  readonly tokens: readonly string[];
}

export interface Pair {
  /** `label/source/sink/hop/fix`: unique in a corpus. */
  readonly id: string;
  readonly label: Label;
  readonly source: string;
  readonly sink: string;
  readonly hop: string;
  readonly fix: FixId;
  /** The files of each plan's project (`.orch` without markers, config, lock, handlers). */
  readonly violating: Readonly<Record<string, string>>;
  readonly twin: Readonly<Record<string, string>>;
  readonly expect: Violation;
}

const UNIVERSAL: Record<Label, readonly FixId[]> = { integrity: ['endorse', 'validator', 'approval'], confidentiality: ['declassify'] };

function fixesFor(label: Label, src: Source, sink: Sink, hop: Hop): FixId[] {
  const hopFixes = (hop.fixes ?? []).filter((f) => label === 'integrity' || f !== 'chain-endorses');
  return [...UNIVERSAL[label], ...src.fixes, ...sink.fixes, ...hopFixes];
}

interface Built {
  readonly files: Record<string, string>;
  readonly sink?: Located;
  readonly source?: Located;
  readonly tokens: readonly string[];
}

function build(seed: string, id: string, label: Label, src: Source, sink: Sink, hop: Hop, fix: FixId, applied: FixId | null): Built {
  const p = new Program();
  const main = p.plan(p.main, 'flow');
  const env: Env = { p, label, main, planned: fix, fix: applied, level: 'personal', pick: chooser(seed, id) };
  env.level = sink.level?.(env) ?? 'personal';
  const read = hop.build(env, src, sink);
  const files: Record<string, string> = {};
  let sinkAt: Located | undefined;
  let callerAt: Located | undefined;
  let sourceAt: Located | undefined;
  for (const [name, text] of Object.entries(p.files())) {
    if (!name.endsWith('.orch')) {
      files[name] = text;
      continue;
    }
    const u = unmark(text);
    files[name] = u.text;
    if (u.sink) sinkAt ??= { file: name, span: u.sink };
    if (u.caller) callerAt ??= { file: name, span: u.caller };
    if (u.source) sourceAt ??= { file: name, span: u.source };
  }
  return { files, sink: callerAt ?? sinkAt, source: sourceAt, tokens: read.tokens };
}

/** The pair for one (source, sink, hop, fix), or null when a part cannot make the fix here. */
export function makePair(seed: string, label: Label, src: Source, sink: Sink, hop: Hop, fix: FixId): Pair | null {
  const id = `${label}/${src.id}/${sink.id}/${hop.id}/${fix}`;
  let violating: Built;
  let twin: Built;
  try {
    violating = build(seed, id, label, src, sink, hop, fix, null);
    twin = build(seed, id, label, src, sink, hop, fix, fix);
  } catch (err) {
    if (err instanceof Inapplicable) return null;
    throw err;
  }
  if (!violating.sink) throw new Error(`${id}: the violating plan has no sink`);
  if (JSON.stringify(violating.files) === JSON.stringify(twin.files)) throw new Error(`${id}: the twin is the violating plan`);
  return {
    id,
    label,
    source: src.id,
    sink: sink.id,
    hop: hop.id,
    fix,
    violating: violating.files,
    twin: twin.files,
    expect: { code: CODE[label], sink: violating.sink, source: violating.source ?? null, tokens: violating.tokens },
  };
}

/** One (source, sink, hop, fix) the corpus may take: cheap to list, built only when taken. */
interface Candidate {
  readonly id: string;
  readonly label: Label;
  readonly src: Source;
  readonly sink: Sink;
  readonly hop: Hop;
  readonly fix: FixId;
}

/** Every (source, sink, hop, fix) whose parts go together (a part may still find its fix inapplicable when built). */
export function candidates(): Candidate[] {
  const out: Candidate[] = [];
  for (const label of ['integrity', 'confidentiality'] as const)
    for (const src of SOURCES.filter((s) => s.label === label))
      for (const sink of SINKS.filter((k) => k.label === label))
        for (const hop of HOPS.filter((h) => h.labels.includes(label) && h.applies(src, sink)))
          for (const fix of fixesFor(label, src, sink, hop)) out.push({ id: `${label}/${src.id}/${sink.id}/${hop.id}/${fix}`, label, src, sink, hop, fix });
  return out;
}

/** The pairs of dimensions a candidate covers: source×sink, source×hop, …, hop×fix. */
function features(c: Candidate): string[] {
  const dims: [string, string][] = [
    ['source', c.src.id],
    ['sink', c.sink.id],
    ['hop', c.hop.id],
    ['fix', c.fix],
  ];
  const out: string[] = [];
  for (let i = 0; i < dims.length; i++) for (let j = i + 1; j < dims.length; j++) out.push(`${c.label}|${dims[i]![0]}=${dims[i]![1]}|${dims[j]![0]}=${dims[j]![1]}`);
  return out;
}

const rank = (seed: string, id: string): string => createHash('sha256').update(`${seed}\u0000${id}`).digest('hex');
const triple = (c: Candidate): string => `${c.label}/${c.src.id}/${c.sink.id}/${c.hop.id}`;

/** The corpus for `seed`: a cover of every pair of dimensions plus seeded picks, or the whole product. */
export function corpus(seed = DEFAULT_SEED, mode: 'cover' | 'full' = 'cover'): Pair[] {
  const ranks = new Map(candidates().map((c) => [c, rank(seed, c.id)]));
  const all = [...ranks.keys()].sort((a, b) => (ranks.get(a)! < ranks.get(b)! ? -1 : 1));
  const make = (c: Candidate): Pair | null => makePair(seed, c.label, c.src, c.sink, c.hop, c.fix);
  const pairs = mode === 'full' ? wholeProduct(all, make) : cover(all, make);
  return pairs.sort((a, b) => a.id.localeCompare(b.id));
}

function cover(all: readonly Candidate[], make: (c: Candidate) => Pair | null): Pair[] {
  // Features as small integers: the greedy loop looks each up hundreds of times.
  const ids = new Map<string, number>();
  const left = new Map(all.map((c) => [c, features(c).map((f) => ids.get(f) ?? (ids.set(f, ids.size), ids.size - 1))]));
  const covered = new Uint8Array(ids.size);
  const chosen: Pair[] = [];
  const taken = new Set<string>();
  for (;;) {
    let best: Candidate | null = null;
    let gain = 0;
    for (const [c, fs] of left) {
      let g = 0;
      for (const f of fs) g += 1 - covered[f]!;
      if (g > gain) [best, gain] = [c, g];
    }
    if (!best) break;
    const fs = left.get(best)!;
    left.delete(best);
    const pair = make(best);
    if (!pair) continue;
    chosen.push(pair);
    taken.add(triple(best));
    for (const f of fs) covered[f] = 1;
  }
  const covering = chosen.length;
  // Top up with the next candidates in seeded order, one per (source, sink, hop) not taken yet.
  for (const c of left.keys()) {
    if (chosen.length >= MIN_PAIRS) break;
    if (taken.has(triple(c))) continue;
    const pair = make(c);
    if (!pair) continue;
    taken.add(triple(c));
    chosen.push(pair);
  }
  coverSize = covering;
  return chosen;
}

/** How many pairs the last cover needed before the top-up (for the summary). */
export let coverSize = 0;

/** One pair per (source, sink, hop), its fix the least used so far for that sink. */
function wholeProduct(all: readonly Candidate[], make: (c: Candidate) => Pair | null): Pair[] {
  const byTriple = new Map<string, Candidate[]>();
  for (const c of all) byTriple.set(triple(c), [...(byTriple.get(triple(c)) ?? []), c]);
  const used = new Map<string, number>();
  const count = (c: Candidate): number => used.get(`${c.sink.id}/${c.fix}`) ?? 0;
  const out: Pair[] = [];
  for (const options of byTriple.values()) {
    for (const c of [...options].sort((a, b) => count(a) - count(b))) {
      const pair = make(c);
      if (!pair) continue;
      used.set(`${c.sink.id}/${c.fix}`, count(c) + 1);
      out.push(pair);
      break;
    }
  }
  return out;
}
