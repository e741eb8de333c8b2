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
 * Simulated outage: the first POOL_OUTAGE_ATTEMPTS attempts of a job fail (default 2). With
 * `retry 1` both of them land on the first-choice pool, so the scheduler rebinds the step to the
 * next pool of its binding's fallback list — the run's output shows where the job ran.
 * Set POOL_OUTAGE_ATTEMPTS=0 for a clean run, or 6 to exhaust every pool and see the rollback.
 */
export async function run_job({ job_id, worker, image, gpu_hours }, ctx) {
  const outage = Number(process.env.POOL_OUTAGE_ATTEMPTS ?? '2');
  const attempt = ctx?.attempt ?? 1;
  if (attempt <= outage) throw new Error(`pool unavailable (simulated outage, attempt ${attempt} of ${outage})`);
  return {
    digest: `sha256:${hash(job_id, image, worker)}`,
    gpu_seconds: Math.round(gpu_hours * 3600),
  };
}

export async function attest({ validator, digest }) {
  // Validators recompute the digest; a well-formed one is approved.
  return { validator, approve: /^sha256:[0-9a-f]{12}$/.test(digest) };
}

export async function tally({ votes, quorum }) {
  const yes = votes.filter((v) => v.approve).length;
  return { approved: yes >= quorum, yes, no: votes.length - yes };
}
