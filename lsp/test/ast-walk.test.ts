/** The generic AST walk is iterative: a 50,000-operator chain is walked in order, parents first (issue 15). */
import { describe, expect, it } from 'vitest';
import { parse } from '../../language/index.js';
import { walk, type AstNode } from '../ast-walk.js';

describe('walk', () => {
  it('visits every node of a 50,000-link chain, parents before children, with the parent stack', () => {
    const text = `plan p {\n  output { v: ${Array(50_000).fill('1').join(' + ')} }\n}\n`;
    const { module, diagnostics } = parse({ file: 'x.orch', text });
    expect(diagnostics).toEqual([]);
    let numbers = 0;
    let deepest = 0;
    const order: string[] = [];
    walk(module as unknown as AstNode, (n, parents) => {
      if (order.length < 4) order.push(n.kind);
      if (n.kind === 'NumberLit') numbers++;
      deepest = Math.max(deepest, parents.length);
    });
    expect(numbers).toBe(50_000);
    expect(order.slice(0, 2)).toEqual(['Module', 'PlanDecl']);
    expect(deepest).toBeGreaterThan(50_000);
  });

  it('skips the children of a node when visit returns false', () => {
    const { module } = parse({ file: 'x.orch', text: 'plan p {\n  output { v: 1 + 2 }\n}\n' });
    const kinds: string[] = [];
    walk(module as unknown as AstNode, (n) => {
      kinds.push(n.kind);
      return n.kind !== 'BinaryExpr';
    });
    expect(kinds).toContain('BinaryExpr');
    expect(kinds).not.toContain('NumberLit');
  });
});
