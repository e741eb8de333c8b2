// Job handlers for the job_marketplace example. Deterministic: ids and digests are hashes of the
// inputs, so a repeated (idempotent) call returns exactly the same result.
import { createHash } from 'node:crypto';

const hash = (...parts) => createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 12);

const WORKERS = [
  { worker_id: 'w-ada', reputation: 4.9, region: 'eu', skills: ['cuda', 'rendering'] },
  { worker_id: 'w-bo', reputation: 4.4, region: 'us', skills: ['cuda', 'training'] },
  { worker_id: 'w-cy', reputation: 3.8, region: 'apac', skills: ['rendering'] },
];

export async function validate_job({ spec, client }) {
  const problems = [];
  if (spec.gpu_hours <= 0 || spec.gpu_hours > 48) problems.push('gpu_hours must be between 0 and 48');
  if (spec.reward <= 0) problems.push('reward must be positive');
  if (!/^[a-z0-9./-]+(:[\w.-]+)?$/.test(spec.image)) problems.push('image is not a valid reference');
  return {
    job_id: `job-${hash(client, spec.title, spec.image)}`,
    accepted: problems.length === 0,
    reason: problems.length === 0 ? 'ok' : problems.join('; '),
  };
}

export async function match_worker({ skills, min_reputation }) {
  const fit = WORKERS.filter((w) => w.reputation >= min_reputation && skills.every((s) => w.skills.includes(s)));
  if (fit.length === 0) throw new Error(`no worker with ${skills.join(', ')} and reputation >= ${min_reputation}`);
  const { worker_id, reputation, region } = fit[0];
  return { worker_id, reputation, region };
}

/**
 * `ctx.resource` is the pool the step was bound to. The example's input can declare pools that
 * are "down" (JOB_POOLS_DOWN, comma-separated, default "pool_eu"), so the first run shows the
 * scheduler rebinding the step to the next pool in its fallback list.
 */
export async function run_job({ job_id, worker, image, gpu_hours }, ctx) {
  const pool = poolName(ctx);
  const down = (process.env.JOB_POOLS_DOWN ?? 'pool_eu').split(',').map((s) => s.trim()).filter(Boolean);
  if (down.includes(pool)) throw new Error(`${pool} is not accepting jobs (maintenance)`);
  return {
    digest: `sha256:${hash(job_id, image, worker)}`,
    pool,
    gpu_seconds: Math.round(gpu_hours * 3600),
  };
}

function poolName(ctx) {
  const r = ctx?.resource;
  if (typeof r === 'string') return r;
  if (r && typeof r.name === 'string') return r.name;
  return 'unknown_pool';
}

export async function attest({ validator, digest }) {
  // Validators recompute the digest; a well-formed one is approved.
  return { validator, approve: /^sha256:[0-9a-f]{12}$/.test(digest) };
}

export async function tally({ votes, quorum }) {
  const yes = votes.filter((v) => v.approve).length;
  return { approved: yes >= quorum, yes, no: votes.length - yes };
}
