/** What every handler receives as its second argument (the same for user handlers). */
export interface HandlerContext {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly runId: string;
  readonly stepId: string;
  /** The resource the attempt runs on (its name), or null when it runs on the local host unplaced. */
  readonly resource: string | null;
  readonly secrets: { readonly [name: string]: string };
  log(...args: unknown[]): void;
}
