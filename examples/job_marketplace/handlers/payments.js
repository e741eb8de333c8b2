// Ledger handlers for the job_marketplace example. The ledger is in memory and ids are derived from
// the inputs; the point of the example is which of these calls are idempotent, not the storage.
import { createHash } from 'node:crypto';

const hash = (...parts) => createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 10);

export async function escrow({ job_id, client, amount }) {
  if (amount > 10000) throw new Error('escrow limit exceeded');
  return { escrow_id: `esc-${hash(job_id, client)}`, amount };
}

export async function refund({ job_id, client }) {
  return { refunded: job_id.length > 0 && client.length > 0 };
}

export async function release({ job_id, worker, amount }) {
  return { payment_id: `pay-${hash(job_id, worker)}`, amount };
}

export async function open_dispute({ job_id, yes, no }) {
  return { dispute_id: `dsp-${hash(job_id, String(yes), String(no))}` };
}
