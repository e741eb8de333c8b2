/**
 * What counts as a credential in a project's config (orch.config.*), as text: a key that names one
 * and the `"secret:NAME"` form that refers to one. The compiler shows config files in code frames
 * (`orch check` on a broken orch.config) and the runtime registers the values with its redactor;
 * both read the same rules here, so what one masks the other does.
 */

/** A config string that names a secret instead of holding it (`"secret:SMTP_PASSWORD"`). */
export const SECRET_REF_PREFIX = 'secret:';
const PREFIX = SECRET_REF_PREFIX;

/** Config keys whose string value is a credential (not where one is fetched from: `token_url`, `secret_file`). */
export const CREDENTIAL_KEY = /^(?!.*(url|uri|name|file|path)$).*(pass(word|wd)?$|secret|token|api[_-]?key|authorization|credential)/i;

/**
 * A config file's text as a code frame shows it (`orch check` on a broken orch.config): the
 * credentials written in it as literals — a credential key's value, a URL's password — masked
 * with `*`, one for each character, so every column a diagnostic points at stays where it was.
 * A `"secret:NAME"` reference is not masked: it names the secret, it is not one.
 */
export function maskCredentialText(text: string): string {
  const stars = (s: string) => '*'.repeat(s.length);
  return text
    .replace(/(["']?)([A-Za-z_$][\w$-]*)\1(\s*:\s*)("(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|[^\s,}\]]+)/g, (whole, q: string, key: string, colon: string, value: string) => {
      if (!CREDENTIAL_KEY.test(key)) return whole;
      const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
      const inner = quote ? value.slice(1, value.endsWith(quote) && value.length > 1 ? -1 : undefined) : value;
      if (inner.startsWith(PREFIX)) return whole;
      return `${q}${key}${q}${colon}${quote}${stars(inner)}${value.slice(quote.length + inner.length)}`;
    })
    .replace(/(\/\/[^\s/:@"'?#]*:)([^\s/@"'?#]+)@/g, (_w, user: string, pass: string) => `${user}${stars(pass)}@`);
}
