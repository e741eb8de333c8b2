/**
 * Where the AST builders meet the expression grammar: the flat expression items the parser
 * collects, and the expression parser a builder is handed for `${…}` interpolations — handed, not
 * imported, because the grammar's own AST build calls the builders.
 */
import type { CstNode, IRecognitionException, IToken } from 'chevrotain';
import type * as A from './ast.js';

/** Parses a token list as one expression (parser.ts's `parseExpressionTokens`). */
export type ExpressionParser = (tokens: IToken[]) => { cst: CstNode; errors: IRecognitionException[] };

/** One element of a flat expression; operands come as CST (`atom`) or already built (`expr`). */
export interface ExprItem {
  readonly at: number;
  readonly atom?: CstNode;
  readonly expr?: A.Expr;
  readonly op?: IToken;
  readonly prefix?: IToken;
}
