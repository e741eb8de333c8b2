/** `consent "a", "b"` in a trigger (LANGUAGE.md §7.2): parsed on both paths, printed back, idempotent. */
import { describe, expect, it } from 'vitest';
import { format, parse, parseViaCst } from '../index.js';

const SOURCE = `trigger notify {
  api "/notify"
  run send_note
  consent "messaging", "contacts"
}
`;

describe('trigger consent', () => {
  it('is read by both parse paths and printed back as written', () => {
    for (const parsed of [parse({ file: 't.orch', text: SOURCE }), parseViaCst({ file: 't.orch', text: SOURCE })]) {
      expect(parsed.diagnostics).toEqual([]);
      const t = parsed.module.declarations[0]!;
      expect(t.kind).toBe('TriggerDecl');
      expect((t as { consent?: { parts: string[] }[] }).consent?.map((s) => s.parts.join(''))).toEqual(['messaging', 'contacts']);
    }
    const f = format('t.orch', SOURCE);
    expect(f.refused).toBeUndefined();
    expect(f.text).toBe(SOURCE);
    expect(format('t.orch', 'trigger notify { api "/notify" run send_note consent "messaging","contacts" }\n').text).toBe(SOURCE);
  });
});
