/** What every handler receives as its second argument (the same for user handlers). */
export interface HandlerContext {
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly runId: string;
  readonly stepId: string;
  /** The resource the attempt runs on (its name), or null when it runs on the local host unplaced. */
  readonly resource: string | null;
  readonly secrets: { readonly [name: string]: string };
  /**
   * W3C `traceparent` of this attempt's span when the run is traced (LANGUAGE.md §8.7), for the
   * calls the handler makes (`http_request` and MCP calls send it); undefined otherwise.
   */
  readonly traceparent?: string;
  log(...args: unknown[]): void;
}
