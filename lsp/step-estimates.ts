/**
 * The latest compiled estimates of each document, for inlay hints. After an edit the hints keep
 * showing the previous compile's values (placed on the current lines: positions come from the
 * current parse, values are looked up by step name) while the estimate worker compiles the new
 * text; when it is done and any value differs, `onUpdate` fires and the client is asked to fetch
 * the hints again. Only the first request of a document waits for a compile.
 */
import { isDeepStrictEqual } from 'node:util';
import type { PlanSteps } from './estimate-worker.js';

export interface Estimates {
  readonly generation: number;
  readonly plans: readonly PlanSteps[];
}

export class StepEstimates {
  private readonly latest = new Map<string, Estimates>();
  private readonly running = new Map<string, Promise<Estimates | undefined>>();

  /**
   * `compute(path, prior)`: the plans of the current text (on a worker thread, or in-process when
   * none can run) — `prior` itself (the values last computed, if any) when they are unchanged, a
   * worker having compared them; `generation()`: the workspace's text generation; `onUpdate(path)`: fresher
   * estimates replaced stale ones that were handed out.
   */
  constructor(
    private readonly compute: (path: string, prior: readonly PlanSteps[] | undefined) => Promise<readonly PlanSteps[]>,
    private readonly generation: () => number,
    private readonly onUpdate: (path: string) => void,
  ) {}

  async get(path: string): Promise<readonly PlanSteps[]> {
    const known = this.latest.get(path);
    if (known && known.generation === this.generation()) return known.plans;
    // With values to show, show them now and tell the client when fresh ones are in.
    const fresh = this.refresh(path, known !== undefined);
    return known ? known.plans : ((await fresh)?.plans ?? []);
  }

  /** One compile per document at a time; `notify`: fire onUpdate when a new one finishes. */
  private refresh(path: string, notify: boolean): Promise<Estimates | undefined> {
    const generation = this.generation();
    const running = this.running.get(path);
    if (running) return running;
    const job = this.compute(path, this.latest.get(path)?.plans)
      .then((plans) => {
        const prior = this.latest.get(path);
        // Most edits change no step's estimate (a goal, a comment, a name elsewhere): the values
        // shown are then the fresh ones — kept as the same object (the hint table made from them
        // stays valid), and the client is not asked to fetch every hint again.
        const same = prior !== undefined && (prior.plans === plans || isDeepStrictEqual(prior.plans, plans));
        const result = { generation, plans: same ? prior.plans : plans };
        if (!prior || prior.generation <= generation) this.latest.set(path, result);
        if (notify && !same) this.onUpdate(path);
        return result;
      })
      .catch(() => undefined)
      .finally(() => {
        this.running.delete(path);
        // Edits arrived while compiling: the next request starts another compile.
      });
    this.running.set(path, job);
    return job;
  }

  forget(path: string): void {
    this.latest.delete(path);
  }
}
