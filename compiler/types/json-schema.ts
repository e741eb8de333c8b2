/** Semantic types → the JSON Schema carried in the IR for run-time validation (ajv). */
import type { JsonSchema } from '../ir/types.js';
import type { Ty } from './ty.js';

/**
 * `closed` records reject unknown properties (plan inputs, capability inputs); outputs are open
 * so a handler returning extra fields is not a failure.
 */
export function toJsonSchema(t: Ty, closed = true, defaults?: ReadonlyMap<string, unknown>): JsonSchema {
  switch (t.k) {
    case 'string':
      return { type: 'string' };
    case 'secret':
      return { type: 'string', 'x-orch-data': 'secret' };
    case 'number':
      return { type: 'number' };
    case 'int':
      return { type: 'integer' };
    case 'bool':
      return { type: 'boolean' };
    case 'duration':
      return { type: 'number', 'x-orch-unit': 'duration' };
    case 'money':
      return { type: 'number', 'x-orch-unit': 'money' };
    case 'percent':
      return { type: 'number', 'x-orch-unit': 'percent' };
    case 'null':
      return { type: 'null' };
    case 'data_class':
      return { enum: ['public', 'internal', 'personal', 'sensitive', 'secret'] };
    case 'enum':
      return { enum: [...t.values] };
    case 'list':
      return { type: 'array', items: toJsonSchema(t.elem, closed) };
    case 'map':
      return { type: 'object', additionalProperties: toJsonSchema(t.value, closed) };
    case 'optional':
      return { anyOf: [toJsonSchema(t.inner, closed), { type: 'null' }] };
    case 'record': {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const f of t.fields.values()) {
        let s = toJsonSchema(f.ty, closed);
        if (f.dataClass) s = { ...s, 'x-orch-data': f.dataClass };
        if (defaults?.has(f.name)) s = { ...s, default: defaults.get(f.name) };
        else if (f.default !== undefined) s = { ...s, default: f.default };
        properties[f.name] = s;
        if (f.required) required.push(f.name);
      }
      return { type: 'object', properties, required, additionalProperties: !closed || (t.open ?? false) };
    }
    case 'any':
    case 'unknown':
      return {};
  }
}
