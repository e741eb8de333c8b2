// Mail handlers for the campaign_launch example. Nothing leaves the machine: a message id is
// derived from the recipient, and addresses on the reserved `.invalid` domain bounce, which is how
// input.rollback.json demonstrates fallback and compensation.

function messageId(prefix, to) {
  let h = 0;
  for (const ch of to) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `${prefix}-${h.toString(16)}`;
}

function assertDeliverable(to) {
  if (!/^[^@\s]+@[^@\s]+\.[a-z]+$/i.test(to)) throw new Error(`malformed address "${to}"`);
  if (to.endsWith('.invalid')) throw new Error(`mailbox ${to} does not exist`);
}

export async function send({ to }) {
  assertDeliverable(to);
  return { message_id: messageId('mx', to), to };
}

export async function send_via_relay({ to }) {
  assertDeliverable(to);
  return { message_id: messageId('relay', to), to };
}

export async function recall({ to, campaign }) {
  return { recalled: to.length > 0 && campaign.length > 0 };
}
