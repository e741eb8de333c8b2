/**
 * JSON text in pieces, so that a large IR (a 100,000-step plan is ~85 MB of JSON) is hashed and
 * journaled without ever being one string: joined, the pieces are exactly `JSON.stringify(value)`.
 */
/** JSON text of `value` in pieces: arrays and objects down to `depth` are split per member. */
export function* jsonPieces(value: unknown, depth = 2): Generator<string> {
  if (depth <= 0 || value === null || typeof value !== 'object' || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // As JSON.stringify inside a container: undefined and functions are written as null.
    yield JSON.stringify(value) ?? 'null';
    return;
  }
  if (Array.isArray(value)) {
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      yield* jsonPieces(value[i], depth - 1);
    }
    yield ']';
    return;
  }
  yield '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    // JSON.stringify leaves out these members of an object.
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    yield* jsonPieces(v, depth - 1);
  }
  yield '}';
}
