/**
 * How a value travels from its source to its sink (LANGUAGE.md §9.3: arguments, `when`, string
 * interpolation, records and lists, sub-plans, `for each`, joins, `??`, fallbacks, compensations;
 * §7.1's races and loops; chains of derived steps). A hop reads the source where it needs it,
 * reshapes the value to the type the sink takes, and places the sink. Where a hop has two honest
 * shapes (the source in a fallback, or the sink in it) a seeded choice takes one.
 */
import { markCaller, markSource } from './marks.js';
import { CONSTANT, ORCH_TYPE, type Env, type FixId, type Label, type Read, type Ty, type Value } from './model.js';
import type { Block, OrchFile } from './program.js';
import { stepText, type Sink } from './sinks.js';
import type { Source, StepCall } from './sources.js';

export interface Hop {
  readonly id: string;
  readonly title: string;
  readonly labels: readonly Label[];
  readonly applies: (src: Source, sink: Sink) => boolean;
  /** Builds the path into `env.main` (and the plans it runs); returns the source's read. */
  readonly build: (env: Env, src: Source, sink: Sink) => Read;
  readonly fixes?: readonly FixId[];
}

const BOTH: readonly Label[] = ['integrity', 'confidentiality'];
const always = (): boolean => true;
/** The type a sink is handed when a hop does not reshape: a flexible sink takes a string. */
const plain = (sink: Sink): Ty => sink.need;
const interp = (e: string): string => '${' + e + '}';

const SHAPE = '{ text: string, items: list<string>, flag: bool }';
const FIELD: Record<Ty, string> = { text: 'text', list: 'items', flag: 'flag', record: 'text' };

function steady(block: Block): string {
  return block.plan.file.cap('steady_values', `kind tool\ninput { q: string }\noutput ${SHAPE}\nhandler "./handlers.js#h"\nrequires cpu`);
}

/** `step ID = CALL` for a step source, with the call marked as the source. */
function placeCall(block: Block, c: StepCall, attrs: readonly string[] = []): void {
  block.add(stepText(c.id, markSource(c.text), attrs));
}

const direct: Hop = {
  id: 'direct',
  title: 'direct argument',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const r = src.read(env, env.main.body, plain(sink));
    sink.step(env, env.main.body, r.value);
    return r;
  },
};

const interpolation: Hop = {
  id: 'interpolation',
  title: 'string interpolation',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const r = src.read(env, env.main.body, 'text');
    const e = interp(r.value.expr);
    const value: Value =
      sink.need === 'list' ? { expr: `["${e}@example.com"]`, ty: 'list' } : sink.need === 'flag' ? { expr: `"${e}" == "yes"`, ty: 'flag' } : { expr: `"re: ${e}"`, ty: 'text' };
    sink.step(env, env.main.body, value);
    return r;
  },
};

const record: Hop = {
  id: 'record',
  title: 'record field',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    if (sink.flexible) {
      const r = src.read(env, env.main.body, 'text');
      sink.step(env, env.main.body, { expr: `{ value: ${r.value.expr}, origin: "corpus" }`, ty: 'record' });
      return r;
    }
    const r = src.read(env, env.main.body, sink.need);
    const field = sink.need === 'flag' ? 'go' : 'value';
    sink.step(env, env.main.body, { expr: `{ ${field}: ${r.value.expr}, origin: "corpus" }.${field}`, ty: sink.need });
    return r;
  },
};

const list: Hop = {
  id: 'list',
  title: 'list element',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const item = sink.need === 'flag' ? 'flag' : 'text';
    const r = src.read(env, env.main.body, item);
    const e = r.value.expr;
    const value: Value = sink.flexible
      ? { expr: `[${e}, "archive"]`, ty: 'list' }
      : sink.need === 'list'
        ? { expr: `[${e}, "ops@example.com"]`, ty: 'list' }
        : sink.need === 'flag'
          ? { expr: `[${e}, false][0] ?? false`, ty: 'flag' }
          : { expr: `[${e}, "ops"][0] ?? "ops"`, ty: 'text' };
    sink.step(env, env.main.body, value);
    return r;
  },
};

const nullish: Hop = {
  id: 'nullish',
  title: '?? (either side)',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const ty = plain(sink);
    const r = src.read(env, env.main.body, ty);
    let expr = `${r.value.expr} ?? ${CONSTANT[ty]}`;
    if (env.pick('nullish-side', 2) === 1) {
      env.main.input.set(`t_${ty}`, `t_${ty}: ${ORCH_TYPE[ty]}?`);
      expr = `input.t_${ty} ?? ${r.value.expr}`;
    }
    sink.step(env, env.main.body, { expr, ty });
    return r;
  },
};

const when: Hop = {
  id: 'when',
  title: 'when (a comparison)',
  labels: ['integrity'],
  applies: (_src, sink) => sink.need === 'flag',
  build(env, src, sink) {
    const r = src.read(env, env.main.body, 'text');
    sink.step(env, env.main.body, { expr: `${r.value.expr} == "purge"`, ty: 'flag' });
    return r;
  },
};

/** The file a sub-plan goes to: the library file when what it reads allows (plan input never). */
function subFile(env: Env, readsSource: Source | null): OrchFile {
  if (readsSource && readsSource.scope !== 'anywhere') return env.p.main;
  return env.pick('sub-file', 2) === 1 ? env.p.lib : env.p.main;
}

const subplanInput: Hop = {
  id: 'subplan_input',
  title: 'sub-plan input',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const ty = plain(sink);
    const sub = env.p.plan(subFile(env, null), 'forward');
    sub.input.set('v', `v: ${ORCH_TYPE[ty]}`);
    const r = src.read(env, env.main.body, ty);
    env.main.body.add(`step ${env.p.name('handoff')} = run ${sub.ref(env.p.main)}(${markCaller(`v: ${r.value.expr}`)})`);
    sink.step(env, sub.body, { expr: 'input.v', ty });
    return r;
  },
};

const subplanOutput: Hop = {
  id: 'subplan_output',
  title: 'sub-plan output',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const ty = plain(sink);
    const file = subFile(env, src.scope === 'main-plan' ? src : null);
    const sub = env.p.plan(file, 'origin');
    const inside = src.scope === 'anywhere' || (src.scope === 'main-file' && file === env.p.main);
    let r: Read;
    let args = '';
    if (inside) {
      r = src.read(env, sub.body, ty);
      sub.output = `v: ${r.value.expr}`;
    } else {
      r = src.read(env, env.main.body, ty);
      sub.input.set('v', `v: ${ORCH_TYPE[ty]}`);
      sub.output = 'v: input.v';
      args = `v: ${r.value.expr}`;
    }
    const id = env.p.name('fetched');
    env.main.body.add(`step ${id} = run ${sub.ref(env.p.main)}(${args})`);
    sink.step(env, env.main.body, { expr: `${id}.output.v`, ty });
    return r;
  },
};

const forEach: Hop = {
  id: 'for_each',
  title: 'for each item',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const r = src.read(env, env.main.body, 'list');
    const item = env.p.name('item');
    const block = env.main.body.open(`for each ${item} in ${r.value.expr} parallel 2`);
    const value: Value = sink.need === 'list' && !sink.flexible ? { expr: `[${item}]`, ty: 'list' } : sink.need === 'flag' ? { expr: `${item} == "go"`, ty: 'flag' } : { expr: item, ty: 'text' };
    sink.step(env, block, value);
    return r;
  },
};

const join: Hop = {
  id: 'join',
  title: 'join of several steps (join first)',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const ty = plain(sink);
    const body = env.main.body;
    const other = env.p.name('steady');
    body.add(`step ${other} = ${steady(body)}(q: "defaults")`);
    const r = src.read(env, body, ty);
    const mine = `${other}.output.${FIELD[ty]}`;
    const expr = env.pick('join-side', 2) === 1 ? `${r.value.expr} ?? ${mine}` : `${mine} ?? ${r.value.expr}`;
    sink.step(env, body, { expr, ty }, ['join first']);
    return r;
  },
};

/** A trusted capability with the source's output type: the primary a source's call falls back from. */
function standIn(block: Block, src: Source, c: StepCall, ty: Ty): string {
  return block.plan.file.cap(`standin_${src.id}_${ty}`, `kind tool\ninput { q: string }\noutput ${c.shape}\nhandler "./handlers.js#h"\nrequires cpu`);
}

const fallback: Hop = {
  id: 'fallback',
  title: 'fallback call (the source, or the sink)',
  labels: BOTH,
  applies: (src, sink) => Boolean(src.call || (sink.call && sink.safe)),
  build(env, src, sink) {
    const ty = plain(sink);
    const body = env.main.body;
    const sinkInFallback = Boolean(sink.call && sink.safe) && (!src.call || env.pick('fallback-side', 2) === 1);
    if (sinkInFallback) {
      const r = src.read(env, body, ty);
      const call = sink.call!(env, body, r.value);
      body.add(stepText(env.p.name('attempt'), sink.safe!(env, body, ty), [`fallback ${call}`]));
      return r;
    }
    const c = src.call!(env, body, ty);
    body.add(stepText(c.id, `${standIn(body, src, c, ty)}(q: "cached")`, [`fallback ${markSource(c.text)}`]));
    sink.step(env, body, { expr: `${c.id}.output.${c.field(ty)}`, ty });
    return { value: { expr: `${c.id}.output.${c.field(ty)}`, ty }, tokens: [c.id, ...c.roots] };
  },
};

const compensation: Hop = {
  id: 'compensation',
  title: 'compensation call',
  labels: BOTH,
  applies: (_src, sink) => Boolean(sink.call),
  build(env, src, sink) {
    const body = env.main.body;
    const r = src.read(env, body, plain(sink));
    const call = sink.call!(env, body, r.value);
    body.add(stepText(env.p.name('booked'), `${steady(body)}(q: "book")`, [`compensate ${call}`]));
    env.main.attrs.push('on_failure rollback');
    return r;
  },
};

const race: Hop = {
  id: 'race',
  title: 'race (the source, or the sink, a branch)',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const ty = plain(sink);
    const body = env.main.body;
    const name = env.p.name('first_done');
    if (src.call && env.pick('race-side', 2) === 1) {
      const c = src.call(env, body, ty);
      const branches = body.open(`race ${name}`, true);
      placeCall(branches, c);
      branches.add(`step ${env.p.name('timer')} = wait 1d`);
      sink.step(env, body, { expr: `${name}.output.${c.field(ty)} ?? ${CONSTANT[ty]}`, ty });
      return { value: { expr: `${c.id}.output`, ty }, tokens: [c.id, ...c.roots] };
    }
    const r = src.read(env, body, ty);
    const branches = body.open(`race ${name}`, true);
    sink.step(env, branches, r.value);
    branches.add(`step ${env.p.name('timer')} = wait 1d`);
    return r;
  },
};

const repeat: Hop = {
  id: 'repeat',
  title: 'repeat (last iteration, previous iteration, inside)',
  labels: BOTH,
  applies: always,
  build(env, src, sink) {
    const ty = plain(sink);
    const body = env.main.body;
    const loop = env.p.name('rounds');
    const shape = src.call ? env.pick('repeat-shape', 3) : 2;
    if (shape === 2) {
      // The sink inside the loop; a step source is read inside too, the others where they live.
      const inner = body.open(`repeat ${loop} max 3 until ${loop}.index >= 2`);
      const r = src.read(env, src.call ? inner : body, ty);
      sink.step(env, inner, r.value);
      return r;
    }
    const inner = body.open(`repeat ${loop} max 3 until ${loop}.index >= 2`);
    const c = src.call!(env, inner, ty);
    placeCall(inner, c);
    const tokens = [c.id, ...c.roots];
    if (shape === 0) sink.step(env, body, { expr: `${c.id}.output.${c.field(ty)}`, ty });
    else sink.step(env, inner, { expr: `${loop}.previous.${c.id}.output.${c.field(ty)} ?? ${CONSTANT[ty]}`, ty });
    return { value: { expr: `${c.id}.output`, ty }, tokens };
  },
};

const derived: Hop = {
  id: 'derived',
  title: 'derived steps chained through three capabilities',
  labels: BOTH,
  applies: always,
  fixes: ['chain-endorses'],
  build(env, src, sink) {
    const ty = plain(sink);
    const body = env.main.body;
    const r = src.read(env, body, ty);
    let expr = r.value.expr;
    const chain = [['shape', 'shaped'], ['enrich', 'enriched'], ['pack', 'packed']] as const;
    for (const [i, [cap, step]] of chain.entries()) {
      const endorses = i === 2 && env.fix === 'chain-endorses' ? '\nendorses true' : '';
      const name = body.plan.file.cap(`${cap}_${ty}`, `kind tool\ninput { v: ${ORCH_TYPE[ty]} }\noutput { v: ${ORCH_TYPE[ty]} }\nhandler "./handlers.js#h"${endorses}\nrequires cpu`);
      const id = env.p.name(step);
      body.add(`step ${id} = ${name}(v: ${expr})`);
      expr = `${id}.output.v`;
    }
    sink.step(env, body, { expr, ty });
    return r;
  },
};

export const HOPS: readonly Hop[] = [direct, when, interpolation, record, list, nullish, subplanInput, subplanOutput, forEach, join, fallback, compensation, race, repeat, derived];
