/**
 * The preview's §9.3 listing: where each data class goes (the steps that read it, from what, and
 * where they run) and every endorsement and declassification — from the labels in the IR.
 */
import type { JsonSchema, PlanIR, RelabelIR } from './ir/types.js';
import { schemaClass } from './ir/flow-recheck.js';

export interface PreviewFlows {
  /** One entry per step that reads data above `public`: `personal: input.who → n (r1, local)`. */
  readonly classes: readonly { readonly class: string; readonly step: string; readonly sources: readonly string[]; readonly resource: string | null; readonly tier: string | null }[];
  /** `step` null: a call in the plan's `output`, in the `until` of loop `loop`, or in the `with` of trigger `trigger`. */
  readonly relabels: readonly {
    readonly step: string | null; readonly loop?: string; readonly trigger?: string; readonly kind: 'endorse' | 'declassify'; readonly reason: string; readonly to?: string;
  }[];
}

/** The relabels of the `with` of each trigger that starts the plan (triggers live beside its IR). */
export type TriggerRelabels = readonly (RelabelIR & { readonly trigger: string })[];

export function previewFlows(plan: PlanIR, triggers: TriggerRelabels = []): PreviewFlows {
  const classes: PreviewFlows['classes'][number][] = [];
  const relabels: PreviewFlows['relabels'][number][] = [];
  const classed = classedSources(plan);
  for (const s of plan.steps) {
    if (s.labels && s.labels.class !== 'public')
      classes.push({ class: s.labels.class, step: s.id, sources: s.labels.sources.filter(classed), resource: s.binding.resource, tier: s.binding.tier });
    for (const r of s.relabels ?? []) relabels.push({ step: s.id, ...r });
  }
  for (const b of plan.blocks ?? []) if (b.type === 'repeat') for (const r of b.until_relabels ?? []) relabels.push({ step: null, loop: b.id, ...r });
  for (const r of plan.output_relabels ?? []) relabels.push({ step: null, ...r });
  for (const r of triggers) relabels.push({ step: null, ...r });
  return { classes, relabels };
}

/**
 * Whether a source of a step's labels brought it a class: `labels.sources` name every labelled
 * source, the untrusted ones of class `public` too (§9.3's run-time labels), while the listing says
 * where each class goes — an input declared above `public`, or a step whose output is.
 */
function classedSources(plan: PlanIR): (source: string) => boolean {
  const inputs = (plan.input as { properties?: Record<string, JsonSchema> } | null)?.properties ?? {};
  const steps = new Map(plan.steps.map((s) => [s.id, s]));
  return (source) => {
    if (source.startsWith('input.')) {
      const field = inputs[source.slice('input.'.length)];
      return field !== undefined && schemaClass(field) !== 'public';
    }
    return (steps.get(source)?.data ?? 'public') !== 'public';
  };
}

export function previewFlowsText(p: PreviewFlows): string[] {
  if (p.classes.length === 0 && p.relabels.length === 0) return [];
  const lines = ['Where data goes'];
  for (const x of p.classes) {
    const where = x.resource ? ` (${x.resource}, ${x.tier})` : x.tier ? ` (${x.tier})` : '';
    lines.push(`  ${x.class}: ${x.sources.length ? `${x.sources.join(', ')} → ` : ''}${x.step}${where}`);
  }
  for (const r of p.relabels)
    lines.push(`  ${r.kind === 'endorse' ? 'endorsed' : `declassified to ${r.to ?? 'internal'}`} in ${r.step ?? (r.loop !== undefined ? `the until of loop ${r.loop}` : r.trigger !== undefined ? `the with of trigger ${r.trigger}` : "the plan's output")}: ${r.reason}`);
  return lines;
}
