/** LANGUAGE.md §8.3: tool names and JSON Schemas → Orch names and types, and the lock's hash. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from '../../language/index.js';
import { canonicalJson } from '../canonical-json.js';
import { lockTool, toolHash } from '../mcp-lock.js';
import { mcpModuleText, schemaType, toolIdent, toolShapes } from '../mcp-module.js';
import { renameValue } from '../mcp-shape.js';

describe('tool names', () => {
  it('replaces every character an identifier cannot hold with _', () => {
    expect(toolIdent('get-sum')).toBe('get_sum');
    expect(toolIdent('files.read text')).toBe('files_read_text');
    expect(toolIdent('2fa')).toBe('_2fa');
    expect(toolIdent('in')).toBe('in_');
  });
});

describe('schemas → types', () => {
  it('maps the §8.3 cases', () => {
    expect(schemaType({ type: 'string' })).toBe('string');
    expect(schemaType({ type: 'integer' })).toBe('int');
    expect(schemaType({ type: 'number' })).toBe('number');
    expect(schemaType({ type: 'boolean' })).toBe('bool');
    expect(schemaType({ type: 'string', enum: ['a', 'b'] })).toBe('"a" | "b"');
    expect(schemaType({ type: 'array', items: { type: 'number' } })).toBe('list<number>');
    expect(schemaType({ type: 'object', additionalProperties: { type: 'string' } })).toBe('map<string>');
    expect(schemaType({ type: 'object' })).toBe('map<any>');
    expect(schemaType({ type: ['string', 'null'] })).toBe('string?');
    expect(schemaType({ anyOf: [{ type: 'string' }, { type: 'number' }] })).toBe('any');
    expect(schemaType({ $ref: '#/defs/x' })).toBe('any');
    expect(schemaType({ type: 'object', properties: { a: { type: 'number' }, b: { type: 'string' } }, required: ['a'] })).toBe('{ a: number, b: string? }');
    // Not required is optional whatever the type: `any` too.
    expect(schemaType({ type: 'object', properties: { u: { anyOf: [{ type: 'string' }, { type: 'number' }] }, v: {} }, required: ['v'] })).toBe('{ u: any?, v: any }');
    // Property names are renamed as tool names are; an enum with null is optional.
    expect(schemaType({ type: 'object', properties: { 'not-ident': { type: 'string' }, '2nd': { type: 'integer' }, true: { type: 'boolean' } }, required: ['2nd', 'true'] })).toBe('{ not_ident: string?, _2nd: int, true_: bool }');
    expect(schemaType({ enum: ['a', null] })).toBe('"a"?');
    expect(schemaType({ type: 'object', properties: { m: { enum: ['a', 'b', null] } }, required: ['m'] })).toBe('{ m: "a" | "b"? }');
    expect(schemaType({ enum: [null] })).toBe('any');
  });

  it("renames values between Orch fields and the tool's property names by the same shapes, nested, in lists, not a map's keys", () => {
    const tool = {
      inputSchema: { type: 'object', properties: { 'file-path': { type: 'string' }, rows: { type: 'array', items: { type: 'object', properties: { 'x.y': { type: 'number' } } } }, tags: { type: 'object', additionalProperties: { type: 'object', properties: { 'a-b': { type: 'string' } } } } } },
      outputSchema: { type: 'object', properties: { 'full-path': { type: ['string', 'null'] } } },
    };
    const { input, output } = toolShapes(tool);
    const orch = { file_path: 'p', rows: [{ x_y: 1 }], tags: { 'k-1': { a_b: 'v' } } };
    const wire = { 'file-path': 'p', rows: [{ 'x.y': 1 }], tags: { 'k-1': { 'a-b': 'v' } } };
    expect(renameValue(orch, input, true)).toEqual(wire);
    expect(renameValue(wire, input, false)).toEqual(orch);
    expect(renameValue({ 'full-path': null }, output!, false)).toEqual({ full_path: null });
  });

  it('always generates a module that parses, whatever the schemas', () => {
    const schema: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      s: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom({ type: 'string' }, { type: 'integer' }, { type: 'boolean' }, { type: ['number', 'null'] }, {}, { enum: ['x"y', 'a\\b', '${z}'] }),
        fc.record({ type: fc.constant('array'), items: tie('s') }),
        fc.record({ type: fc.constant('object'), properties: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('input', 'kind', 'step', 'data')), tie('s'), { maxKeys: 3 }), required: fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }) }),
        fc.record({ type: fc.constant('object'), additionalProperties: tie('s') }),
      ),
    })).s;
    fc.assert(
      fc.property(fc.array(fc.record({ name: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('plan', 'step', 'input', 'output', 'capability', 'import', 'mcp', 'from')), description: fc.string({ maxLength: 30 }), inputSchema: schema, outputSchema: fc.option(schema, { nil: undefined }) }), { maxLength: 4 }), (tools) => {
        const locked = tools.map((t) => lockTool({ ...t, inputSchema: { type: 'object', properties: { v: t.inputSchema } } } as never));
        const { text } = mcpModuleText('srv', { name: 'srv', version: '1', tools: locked });
        expect(parse({ file: 'x.orch', text }).diagnostics).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the lock hash', () => {
  it('does not depend on key order, and changes with the schema', () => {
    const a = { name: 't', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'string' } } } };
    const b = { name: 't', inputSchema: { properties: { b: { type: 'string' }, a: { type: 'number' } }, type: 'object' } };
    expect(canonicalJson(a.inputSchema)).toBe(canonicalJson(b.inputSchema));
    expect(toolHash(a)).toBe(toolHash(b));
    expect(toolHash({ ...a, inputSchema: { type: 'object', properties: { a: { type: 'string' } } } })).not.toBe(toolHash(a));
    expect(toolHash({ ...a, description: 'now also deletes things' })).not.toBe(toolHash(a));
  });
});
