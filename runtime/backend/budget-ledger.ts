/**
 * What every backend's limit store agrees on about budget ledgers (the contract is
 * runtime/scheduler/core/limits.ts; runtime/test/limit-store-contract.test.ts holds each store to
 * it): how a budget lease and a grant's rate hits are named, how long an ended run's spend is
 * kept, and how money is compared. One definition, so the three stores cannot drift apart.
 */

/** A budget lease's id: `b` and the row ids of its ledgers (one per budget of the claim). */
export const BUDGET_LEASE = /^b\d+(,\d+)*$/;

/** The expiry of an ended run's spend: it stays until the ledger is idle (see `closeRun`). */
export const KEPT = Number.MAX_SAFE_INTEGER;

/** Money compared against a limit: a tolerance for the float sums of many small costs. */
export const EPSILON = 1e-9;

/** The ledger row ids a budget lease id (`BUDGET_LEASE`) names, as text (a Postgres bigint parameter). */
export function budgetRowIds(leaseId: string): string[] {
  return leaseId.slice(1).split(',');
}

/** The leases a holder renews (`SharedLimitStore.renew`), split into slot lease ids and budget ledger row ids. */
export function heldLeaseIds(held: readonly string[]): { readonly slots: string[]; readonly budgetRows: string[] } {
  const slots: string[] = [];
  const budgetRows: string[] = [];
  for (const id of held) {
    if (BUDGET_LEASE.test(id)) budgetRows.push(...budgetRowIds(id));
    else slots.push(id);
  }
  return { slots, budgetRows };
}

/**
 * A grant's rate hits (`SharedGrant.calls`): `r` and their row ids, pending until `started`
 * (the contract in runtime/scheduler/core/limits.ts). Named apart from slot leases, so a
 * `release` knows which table it gives back to.
 */
export const RATE_CALLS = /^r\d+(,\d+)*$/;

export function rateCalls(ids: readonly (number | string)[]): string {
  return `r${ids.join(',')}`;
}

/** The rate hit row ids a `RATE_CALLS` id names, as text (a Postgres bigint parameter). */
export function callIds(calls: string): string[] {
  return calls.slice(1).split(',');
}
