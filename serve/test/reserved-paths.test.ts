/**
 * An `api` trigger may not shadow a route of `orch serve` (docs/language.md, E0701): every route
 * the role table knows is refused as a trigger's path, by the check `orch check` and `orch serve`
 * share — a route added to the server without reserving its path fails here.
 */
import { describe, expect, it } from 'vitest';
import { apiPathProblem } from '../../compiler/index.js';
import { API_TRIGGER_ROUTE, ROLE_TABLE } from '../http/role-table.js';

describe('reserved api paths', () => {
  const routes = Object.keys(ROLE_TABLE).filter((r) => r !== API_TRIGGER_ROUTE);

  it.each(routes)('%s cannot be an api trigger path', (route) => {
    const path = route.split(' ')[1]!;
    // The route's own path, and its first segment alone (a trigger on `/runs` shadows `/runs/:id`).
    const first = `/${path.split('/')[1] ?? ''}`;
    for (const p of [path.replace(/:[a-z]+/g, 'x'), first]) expect(apiPathProblem(p), p).toMatch(/reserved by orch serve/);
  });
});
