/** The approvals inbox: pending approvals, decided with a comment; the server records who and when. */
import { get, post } from './api.js';
import { h, when } from './dom.js';
import { canDecide } from './roles.js';
import { starterLabel, type StarterLike } from '../render/starter-label.js';

interface Pending {
  runId: string;
  planId: string;
  stepId: string;
  approver: string | null;
  summary: string;
  /** LANGUAGE.md §9.3: the exact value approving endorses. */
  subject?: unknown;
  since: string | null;
  /** LANGUAGE.md §8.8: distinct people who must approve, and who did so far. */
  needed?: number;
  approvedBy?: string[];
  /** LANGUAGE.md §9.1: who started the run. */
  started_by?: StarterLike;
}

/** "1 of 2 approvals · approved by Alice", for a step that needs more than one person. */
function progress(a: Pending): string {
  const needed = a.needed ?? 1;
  if (needed <= 1) return '';
  const got = a.approvedBy ?? [];
  return ` · ${got.length} of ${needed} approvals${got.length ? ` · approved by ${got.join(', ')}` : ''}`;
}

export async function inboxView(root: HTMLElement): Promise<void> {
  const { approvals } = await get<{ approvals: Pending[] }>('/approvals');
  const cards = approvals.map((a) => {
    const comment = h('input', { type: 'text', placeholder: 'comment (optional)', 'aria-label': `comment for ${a.stepId} in ${a.runId}`, maxlength: 2000 });
    const status = h('p', { class: 'flash', role: 'status' });
    const decide = (verb: 'approve' | 'reject') => async () => {
      try {
        await post(`/runs/${encodeURIComponent(a.runId)}/steps/${encodeURIComponent(a.stepId)}/${verb}`, { comment: comment.value || undefined });
        status.textContent = verb === 'approve' ? 'Approved.' : 'Rejected.';
        card.classList.add('decided');
        for (const b of card.querySelectorAll('button')) b.disabled = true;
      } catch (err) {
        status.textContent = (err as Error).message;
      }
    };
    const card = h(
      'article',
      { class: 'card approval', 'data-run': a.runId, 'data-step': a.stepId },
      h('h3', {}, a.summary),
      a.subject === undefined ? null : h('pre', { class: 'approval-subject', 'aria-label': 'the value you approve' }, typeof a.subject === 'string' ? a.subject : JSON.stringify(a.subject, null, 2)),
      h('p', { class: 'muted' }, `${a.planId} · step ${a.stepId} · `, h('a', { href: `#/runs/${encodeURIComponent(a.runId)}` }, a.runId), a.approver ? ` · for ${a.approver}` : '', ` · waiting since ${when(a.since)}`, a.started_by ? ` · started by ${starterLabel(a.started_by)}` : ''),
      progress(a) ? h('p', { class: 'approvals-progress', 'data-needed': String(a.needed ?? 1) }, progress(a).slice(3)) : null,
      ...(canDecide() ? [comment] : [h('p', { class: 'muted' }, 'Deciding needs the approver role.')]),
      canDecide() && h('div', { class: 'controls' }, h('button', { type: 'button', class: 'primary', 'data-action': 'approve', onclick: decide('approve') }, 'Approve'), h('button', { type: 'button', class: 'danger', 'data-action': 'reject', onclick: decide('reject') }, 'Reject')),
      status,
    );
    return card;
  });
  root.replaceChildren(h('h2', {}, 'Approvals'), ...(cards.length ? cards : [h('p', { class: 'muted empty' }, 'Nothing is waiting for approval.')]));
}
