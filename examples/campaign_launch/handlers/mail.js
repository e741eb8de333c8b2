// Mail handlers for the campaign_launch example. Nothing leaves the machine: a message id is
// derived from the recipient. Malformed addresses are refused outright (so the relay fallback is
// tried and fails too); addresses on the reserved `.invalid` domain are accepted and then bounce,
// which is how input.rollback.json makes `check_bounces` fail and the plan roll back.

function messageId(prefix, to) {
  let h = 0;
  for (const ch of to) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `${prefix}-${h.toString(16)}`;
}

function assertWellFormed(to) {
  if (!/^[^@\s]+@[^@\s]+\.[a-z]+$/i.test(to)) throw new Error(`malformed address "${to}"`);
}

export async function send({ to }) {
  assertWellFormed(to);
  return { message_id: messageId('mx', to), to, bounced: to.endsWith('.invalid') };
}

export async function send_via_relay({ to }) {
  assertWellFormed(to);
  return { message_id: messageId('relay', to), to, bounced: to.endsWith('.invalid') };
}

export async function check_bounces({ sent, max_rate }) {
  const bounced = sent.filter((m) => m.bounced).length;
  const rate = sent.length === 0 ? 0 : bounced / sent.length;
  if (rate > max_rate) {
    throw new Error(`${bounced} of ${sent.length} emails bounced (${Math.round(rate * 100)}% > ${Math.round(max_rate * 100)}%): the list needs cleaning`);
  }
  return { bounced, rate };
}

export async function recall({ to, campaign }) {
  return { recalled: to.length > 0 && campaign.length > 0 };
}
