/**
 * `orch explain` for the codes of where values may go (LANGUAGE.md §9.3): E0902, E0903.
 */
import type { Entries } from './entry.js';

const READER = `capability read_mail {
  kind tool
  input { box: string }
  output { reply_to: string, body: string }
  trust untrusted
}

capability delete_files {
  kind tool
  input { path: string }
  output { deleted: int }
  destructive true
}
`;

export const FLOWS = {
  E0902: {
    severity: 'error',
    title: 'an untrusted value reaches a sink that needs trust',
    details: `Every value is trusted or untrusted. The output of a \`kind llm\` step, of an MCP tool, of
\`http_request\` and of a capability declaring \`trust untrusted\` is untrusted — anyone who can put
text in front of them chooses it — and so are plan input and context fields marked
\`@untrusted\`. A step that reads an untrusted value gives an untrusted output too, unless its
capability declares \`endorses true\` (a deterministic validator).

Some places take only trusted values: a parameter marked \`@trusted\`, every parameter of a
\`destructive\` capability that is not marked \`@untrusted\`, the \`to\` and \`channel\` of \`email\`, the
\`channel\` of \`notify\`, and the \`when\` of a destructive step. The message names the witness path
from the sink back to the source; each hop's position is related information.

Fix it by taking the value from somewhere trusted, by a validator (\`endorses true\`), by a
person (\`approval(…, subject: V)\` → \`output.subject\`), or — where you vouch for it —
\`endorse(V, reason: "…")\`, which the run journals and \`orch preview\` lists.`,
    trigger: `${READER}
plan cleanup {
  step mail = read_mail(box: "inbox")
  step rm = delete_files(path: mail.output.body)
}
`,
    fix: `${READER}
plan cleanup {
  step mail = read_mail(box: "inbox")
  step rm = delete_files(path: endorse(mail.output.body, reason: "the inbox is ours"))
}
`,
    reference: 'LANGUAGE.md §9.3 Where values may go',
  },

  E0903: {
    severity: 'error',
    title: 'a value reaches a place below its class',
    details: `A value of class \`personal\` or above may reach a step only where its place takes that
class: its resource's tier (\`local\` any class, \`edge\` up to \`personal\`, \`cloud\` up to
\`internal\`, unless the resource says \`accepts CLASS\`), its model endpoint's tier (or the
endpoint's \`"accepts"\` in orch.config), a capability declaring a lower \`data\` class, or an
external channel (every email, Slack and webhook channel unless its config entry says
\`"internal": true\`) above \`internal\` — an email's own recipients excepted. A step's output class
is the highest of its capability's \`data\`, its arguments' classes and its output fields' classes.

Fix it by keeping the value on a place that takes it, or by lowering its class where that is
honest: \`declassify(V, to: internal, reason: "…")\`, journaled and listed by \`orch preview\`.`,
    trigger: `capability summarize {
  kind tool
  input { text: string }
  output { summary: string }
  data internal
}

plan digest {
  input { notes: string @personal }

  step s = summarize(text: input.notes)
}
`,
    fix: `capability summarize {
  kind tool
  input { text: string }
  output { summary: string }
  data internal
}

plan digest {
  input { notes: string @personal }

  step s = summarize(text: declassify(input.notes, to: internal, reason: "notes of our own team"))
}
`,
    reference: 'LANGUAGE.md §9.3 Where values may go',
  },
} satisfies Entries;
