/**
 * The `placement` stage: binds every step, and every step's `fallback` and `compensate` call, to
 * a resource by the plan's policy (compiler/placement.ts ranks them); E0501 where none can host
 * it. Steps with the same needs get the same binding, computed once per need and policy for the
 * whole compile.
 */
import { diagnostic } from '../../language/index.js';
import type { CapabilityInfo } from '../check/capability.js';
import type { BindingIR, StepIR } from '../ir/types.js';
import { place, type PlacementStep } from '../placement.js';
import { modelKey, modelNeed, modelView, withEndpoint, type ModelNeed, type ModelView } from './model-endpoints.js';
import type { CallBindings, Placed, PlanFacts } from './plan-facts.js';

export function placeSteps(f: PlanFacts): void {
  const { cx, steps, n, file } = f;
  const bindings = new Array<StepIR['binding'] | undefined>(n);
  let placements = cx.placements.get(f.policy);
  if (!placements) cx.placements.set(f.policy, (placements = new Map()));
  // A call step that is not pinned needs exactly what its capability needs: skip building the key.
  // (a one-step plan has nothing to share it with)
  const byCapability = n > 1 ? new Map<CapabilityInfo, Placed>() : undefined;
  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    const plain = s.capability !== undefined && !s.pinned;
    let r = plain ? byCapability?.get(s.capability!) : undefined;
    const need = s.action.type === 'call' ? modelNeed(s.capability, file) : undefined;
    if (!r) {
      const builtin = s.action.type === 'call' ? null : s.action.type;
      const requires = s.capability?.ir.requires ?? [];
      // A resource is named plainly unless an earlier module has one of that name; then it bears its
      // qualified name, which so is looked for first (`on b.box` is not the other module's `box`).
      const pinned = s.pinned ? (cx.resources.find((x) => x.name === s.pinned!.qualifiedName) ?? cx.resources.find((x) => x.name === s.pinned!.node.name.name))?.name ?? s.pinned.node.name.name : undefined;
      const key = `${builtin}|${s.kind}|${requires.join(',')}|${pinned ?? ''}|${modelKey(need)}`;
      r = placements.get(key);
      if (!r) {
        const at = { id: s.id, kind: s.kind, builtin, requires, pinned };
        r = need ? placeModel(at, need, f) : place(at, cx.resources, f.effective, cx.money);
        placements.set(key, r);
      }
      if (plain) byCapability?.set(s.capability!, r);
    }
    if (!r.ok) {
      if (s.action.type === 'call' && !s.capability) continue; // unresolved capability: already reported
      for (const h of r.hosts ?? []) (f.undecidedHosts ??= new Set()).add(h);
      cx.diags.push(diagnostic(r.code ?? 'E0501', r.code ? `step "${s.id}": ${r.reason}` : `no resource can host step "${s.id}": ${r.reason}`, file, s.decl.name.range));
      continue;
    }
    bindings[i] = r.binding;
  }
  f.bindings = bindings;
  placeCalls(f, placements);
}

/**
 * A step's `fallback` and `compensate` calls are placed like steps, by their own capability's
 * `requires` (the step's `on` pins only its primary call): running them on the step's resource
 * could land them on one that lacks what they need.
 */
/**
 * A step answered by the built-in model handler is placed among the resources that decide its
 * endpoint, each at its tier with that endpoint (./model-endpoints.ts). When only resources
 * without an endpoint could host it and the capability names none, where its prompt goes is
 * undecided: E0801 (there is no "first endpoint of the config" default).
 */
function placeModel(at: PlacementStep, need: ModelNeed, f: PlanFacts): Placed {
  const { cx } = f;
  const view = modelView(cx.resources, need);
  const r = place(at, view.resources, f.effective, cx.money);
  const b = r.ok ? withEndpoint(r.binding, need, view.byName) : undefined;
  if (b) return modelDecided(b, need, view) ? { ok: true, binding: b } : noModel(b);
  if (!r.ok && !place(at, cx.resources, f.effective, cx.money).ok) return r;
  const hosts = cx.resources.filter((x) => x.kind !== 'human' && at.requires.every((t) => x.provides.includes(t))).map((x) => x.name);
  const on = at.pinned !== undefined ? `its resource ${at.pinned} names no endpoint` : hosts.length ? `no resource that can host it (${hosts.join(', ')}) names an endpoint` : 'it runs on no resource';
  return {
    ok: false,
    code: 'E0801',
    reason: `the model endpoint its prompt is sent to is not decided: ${on}, and the capability has no endpoint "NAME" — give the capability or its resource an endpoint of orch.config.json "endpoints"`,
    hosts: at.pinned !== undefined ? [at.pinned] : hosts,
  };
}

/**
 * A model step whose resource names no model, of a capability that names none, would fail at its
 * first attempt ("no model for …", runtime/models/model-executor.ts): the model, like the
 * endpoint, is decided where it is placed (§8.1), so it is E0801 at check.
 */
function noModel(b: BindingIR): Placed {
  const on = b.resource === null ? 'it runs on no resource' : `its resource ${b.resource} names no model`;
  const hosts = b.resource === null ? [] : [b.resource, ...b.fallbacks];
  return { ok: false, code: 'E0801', reason: `the model its prompt is sent to is not decided: ${on}, and the capability has no model "NAME" — give the capability or its resource a model`, hosts };
}

function modelDecided(b: BindingIR, need: ModelNeed, view: ModelView): boolean {
  if (need.ownModel) return true;
  const r = b.resource === null ? undefined : view.byName.get(b.resource);
  return r !== undefined && (r.kind === 'human' || r.model !== undefined);
}

function placeCalls(f: PlanFacts, placements: Map<string, Placed>): void {
  const { cx, steps, file } = f;
  if (!steps.some((s) => s.fallback || s.compensate)) return;
  const callBindings = new Map<string, CallBindings>();
  for (const s of steps) {
    if (!s.fallback && !s.compensate) continue;
    for (const which of ['fallback', 'compensate'] as const) {
      const c = s[which];
      const info = c ? cx.capabilityByName(c.capability) : undefined;
      if (!c || !info) continue; // unresolved capability: already reported
      const requires = info.ir.requires;
      const key = `null|${info.ir.kind}|${requires.join(',')}|`;
      const need = modelNeed(info, file);
      let r = placements.get(key + modelKey(need));
      if (!r) {
        const at = { id: s.id, kind: info.ir.kind, builtin: null, requires, pinned: undefined };
        r = need ? placeModel(at, need, f) : place(at, cx.resources, f.effective, cx.money);
        placements.set(key + modelKey(need), r);
      }
      if (!r.ok) {
        const what = `the ${which} call ${c.capability} of step "${s.id}"`;
        cx.diags.push(diagnostic(r.code ?? 'E0501', r.code ? `${what}: ${r.reason}` : `no resource can host ${what}: ${r.reason}`, file, s.decl[which]?.capability.range ?? s.decl.name.range));
        continue;
      }
      callBindings.set(s.id, { ...callBindings.get(s.id), [which]: r.binding });
    }
  }
  f.callBindings = callBindings;
}
