/** What every handler receives as its second argument (the same for user handlers). */
export interface HandlerContext {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly runId: string;
  readonly stepId: string;
  readonly secrets: { readonly [name: string]: string };
  log(...args: unknown[]): void;
}
