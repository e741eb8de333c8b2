import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';

/** One element of a flat expression; operands come as CST (`atom`) or already built (`expr`). */
export interface ExprItem {
  readonly at: number;
  readonly atom?: CstNode;
  readonly expr?: A.Expr;
  readonly op?: IToken;
  readonly prefix?: IToken;
}
