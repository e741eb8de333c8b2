/** Shared helpers for the front-end tests. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Declaration, Expr, Module } from '../ast.js';
import type { Diagnostic } from '../diagnostic.js';
import { parse } from '../index.js';

/** Parses `text`, asserting there are no diagnostics. */
export function parseOk(text: string, file = 'test.orch'): Module {
  const { module, diagnostics } = parse({ file, text });
  expect(diagnostics.map((d) => `${d.range.start.line}:${d.range.start.column} ${d.code} ${d.message}`)).toEqual([]);
  return module;
}

export function diagnosticsOf(text: string, file = 'test.orch'): Diagnostic[] {
  return parse({ file, text }).diagnostics;
}

/** Deep copy without ranges (`range`, `nameRange`, `*Range`), for shape assertions. */
export function strip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (k, v) => (k === 'range' || k.endsWith('Range') ? undefined : v))) as T;
}

export function firstDecl(text: string): Declaration {
  const m = parseOk(text);
  expect(m.declarations.length).toBeGreaterThan(0);
  return m.declarations[0]!;
}

/** The expression of `invariant x { always EXPR }`, without ranges. */
export function expr(source: string): Expr {
  const d = firstDecl(`invariant x { always ${source} }`);
  if (d.kind !== 'InvariantDecl') throw new Error('not an invariant');
  return strip(d.condition);
}

/** Compact rendering of an expression tree with explicit grouping, for precedence tests. */
export function show(e: Expr): string {
  switch (e.kind) {
    case 'BinaryExpr':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case 'UnaryExpr':
      return `(${e.op === 'not' ? 'not ' : '-'}${show(e.operand)})`;
    case 'NameExpr':
      return e.name;
    case 'NumberLit':
      return String(e.value);
    case 'MemberExpr':
      return `${show(e.object)}.${e.property.name}`;
    case 'IndexExpr':
      return `${show(e.object)}[${show(e.index)}]`;
    case 'CallExpr':
      return `${e.callee.name}(${e.args.map(show).join(', ')})`;
    case 'ParenExpr':
      return `[${show(e.inner)}]`;
    case 'StringLit':
      return JSON.stringify(e.parts.map((p) => (typeof p === 'string' ? p : `{${show(p)}}`)).join(''));
    case 'BoolLit':
      return String(e.value);
    case 'NullLit':
      return 'null';
    case 'DurationLit':
      return `${e.value}${e.unit}`;
    case 'MoneyLit':
      return `${e.amount}${e.currency}`;
    case 'PercentLit':
      return `${e.value}%`;
    case 'RangeExpr':
      return `${show(e.from)}..${show(e.to)}`;
    case 'ListLit':
      return `[${e.items.map(show).join(', ')}]`;
    case 'RecordLit':
      return `{${e.fields.map((f) => `${f.key.name}: ${show(f.value)}`).join(', ')}}`;
  }
}

/** Every `.orch` file under `dir`, recursively. */
export function orchFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...orchFiles(path));
    else if (name.endsWith('.orch')) out.push(path);
  }
  return out;
}

/** The examples folder's `.orch` files. */
export const EXAMPLE_FILES = orchFiles(fileURLToPath(new URL('../../examples/', import.meta.url)));
