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
  /**
   * v0.3 (LANGUAGE.md §8.1): what this attempt used. Every field is optional and several calls add
   * up; `cost` is the attempt's actual cost, else tokens × the config's price for `model`, else the
   * capability's estimate. Budgets settle on it (§8.2).
   */
  usage(u: { cost?: number; input_tokens?: number; output_tokens?: number; model?: string }): void;
}
