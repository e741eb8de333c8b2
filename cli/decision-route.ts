/**
 * The HTTP route that decides an approval, as the hints print it (LANGUAGE.md §9.1: a people-bound
 * approval is decided by a person's token, not `orch signal`). A sub-plan's step path (`sub/ok`)
 * is one route parameter, so it is encoded: `sub%2Fok`; unencoded it names no route (404).
 */
export function decisionRoute(runId: string, step: string): string {
  return `/runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step)}`;
}
