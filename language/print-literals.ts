/** How the printer writes literals and comments: numbers without exponents, money, escaped strings, comment text. */
import type { Comment } from './ast.js';

/** Prints a number without exponent notation so the lexer reads it back as the same value. */
export function formatNumber(value: number, integer = Number.isInteger(value)): string {
  let text = String(Math.abs(value));
  if (/e/i.test(text)) text = withoutExponent(text);
  if (!integer && !text.includes('.')) text += '.0';
  return value < 0 ? `-${text}` : text;
}

/** `1.5e-7` → `0.00000015`, `1e21` → `1000000000000000000000`: the same digits, the point moved. */
function withoutExponent(text: string): string {
  const [mantissa = '', exp = '0'] = text.toLowerCase().split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = whole + fraction;
  const point = whole.length + Number(exp);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`.replace(/0+$/, '');
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Amounts with cents keep at least two decimals (`0.50usd`, `0.002usd`, `12usd`). */
export function formatMoneyAmount(amount: number): string {
  const text = formatNumber(amount);
  const decimals = text.split('.')[1];
  return decimals !== undefined && decimals.length < 2 ? `${text}0` : text;
}

/** `text` as an Orch string literal: quoted, with the escapes the lexer reads (`${` as `\${`, never interpolated). */
export function stringLiteral(text: string): string {
  return `"${escapeStringText(text)}"`;
}

/** A record literal's key as written: a name bare, any other key as a string (`"content-type"`). */
export function recordKeyText(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : stringLiteral(key);
}

/** Escapes literal string text: quotes, backslashes, control characters and `${`. */
export function escapeStringText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '$':
        out += text[i + 1] === '{' ? '\\$' : '$';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** A comment as printed: as written, with `\n` line endings. */
export function commentText(c: Comment): string {
  return c.text.replace(/\r\n?/g, '\n');
}
