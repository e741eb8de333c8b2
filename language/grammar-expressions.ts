/**
 * The grammar's expressions (layers over grammar-literals.ts): operands, operators, member and
 * index accesses, and the stack the AST build keeps them on.
 *
 * Flat on purpose: one `expression` node holds the operands (`atom`), prefix operators and
 * binary operators in source order, and precedence is applied afterwards (`climb` in
 * cst-to-ast.ts). A rule per precedence level would build a dozen CST nodes for every
 * literal, which dominated parse time and memory on large plans. The AST build keeps the
 * same flat list on a shared stack (`exValues`/`exTags`): an operand alone allocates nothing.
 */
import type { IOrAlt, IToken } from 'chevrotain';
import type * as A from './ast.js';
import type { ExprItem } from './expression-parts.js';
import { LABEL, v } from './grammar-labels.js';
import type { LiteralRules } from './grammar-literals.js';
import { AnyNumber, BinaryOp, Dot, DotDot, FieldName, LBracket, LParen, Name, PrefixOp, R, RBracket, RParen, StringTok } from './lexer.js';
import { startOffset } from './source.js';

/** Tags of the flat expression stack (operands and operators in source order). */
const OPERAND = 0;
const BINARY = 1;
const PREFIX = 2;
const RANGE = 3;

/**
 * The AST build's expression stack (a layer of its own under the expression rules): the operands
 * and operators of every expression being parsed, in source order, popped into one flat
 * expression (expression-parts.ts) when the expression ends.
 */
export function expressionStack(Base: LiteralRules) {
  return class ExpressionStack extends Base {
    /**
     * Operands and operators of the expressions being parsed, innermost last (AST build): the
     * first `exTop` entries. The arrays never shrink: emptied by `length`, V8 gives an array a new
     * backing store at its next push, twice per expression.
     */
    private readonly exValues: unknown[] = [];
    private readonly exTags: number[] = [];
    protected exTop = 0;

    protected pushEx(tag: number, x: unknown): void {
      const i = this.exTop++;
      this.exTags[i] = tag;
      this.exValues[i] = x;
    }

    /** The expression whose items start at `base` on the stack; pops them. */
    protected popExpression(base: number): A.Expr {
      const tags = this.exTags;
      const values = this.exValues;
      const top = this.exTop;
      this.exTop = base;
      if (top === base + 1) {
        const x = values[base];
        values[base] = undefined; // not kept alive by the stack
        return x as A.Expr;
      }
      const items: ExprItem[] = [];
      let dotdot: IToken | undefined;
      for (let i = base; i < top; i++) {
        const x = values[i];
        switch (tags[i]) {
          case OPERAND: items.push({ at: startOffset((x as A.Expr).range), expr: x as A.Expr }); break;
          case BINARY: items.push({ at: (x as IToken).startOffset, op: x as IToken }); break;
          case PREFIX: items.push({ at: (x as IToken).startOffset, prefix: x as IToken }); break;
          default: dotdot = x as IToken;
        }
      }
      values.fill(undefined, base, top);
      return this.b.flatExpression(items, dotdot);
    }

    override resetActions(): void {
      this.exValues.length = 0;
      this.exTags.length = 0;
      this.exTop = 0;
      super.resetActions();
    }
  };
}

export type ExpressionStack = ReturnType<typeof expressionStack>;

export function expressionRules(Base: ExpressionStack) {
  return class ExpressionRules extends Base {
    // The DSL closures of the hot rules (expression, step, call) are built once per parser, not
    // once per use (see `itemLoops`, grammar-blocks.ts).
    override expression = this.RULE('expression', () => {
      const base = this.exTop;
      this.MANY((this.leadingPrefixes ??= () => {
        const t = this.CONSUME(PrefixOp, LABEL.prefix);
        if (this.live) this.pushEx(PREFIX, t);
      }));
      // The first operand is inline (most expressions are a single operand: one node, not two).
      const first = this.operand();
      if (this.live) this.pushEx(OPERAND, first);
      this.MANY2((this.binaryTail ??= () => {
        const op = this.CONSUME(BinaryOp, LABEL.op);
        if (this.live) this.pushEx(BINARY, op);
        this.MANY3((this.innerPrefixes ??= () => {
          const t = this.CONSUME2(PrefixOp, LABEL.prefix);
          if (this.live) this.pushEx(PREFIX, t);
        }));
        const a = this.SUBRULE2(this.atom);
        if (this.live) this.pushEx(OPERAND, a);
      }));
      this.OPTION((this.rangeTail ??= () => {
        const dd = this.CONSUME(DotDot);
        if (this.live) this.pushEx(RANGE, dd);
        this.MANY4(() => {
          const t = this.CONSUME3(PrefixOp, LABEL.prefix);
          if (this.live) this.pushEx(PREFIX, t);
        });
        const a = this.SUBRULE3(this.atom);
        if (this.live) this.pushEx(OPERAND, a);
        this.MANY5(() => {
          const op = this.CONSUME2(BinaryOp, LABEL.op);
          if (this.live) this.pushEx(BINARY, op);
          this.MANY6(() => {
            const t = this.CONSUME4(PrefixOp, LABEL.prefix);
            if (this.live) this.pushEx(PREFIX, t);
          });
          const a2 = this.SUBRULE4(this.atom);
          if (this.live) this.pushEx(OPERAND, a2);
        });
      }));
      if (this.live) return this.popExpression(base);
    });

    private leadingPrefixes?: () => void;
    private binaryTail?: () => void;
    private innerPrefixes?: () => void;
    private rangeTail?: () => void;
    atom = this.RULE('atom', () => this.operand());

    /** The expression being extended by member/index accesses (AST build). */
    private acc: A.Expr | undefined;

    override resetActions(): void {
      this.acc = undefined;
      super.resetActions();
    }

    /** An operand with its member/index accesses, recorded into the calling rule's node. Uses
     *  DSL indices 7–8 so it cannot collide with the caller's own. */
    private operand(): unknown {
      // The alternatives and the loop body are built once (see `itemLoops`, grammar-blocks.ts):
      // operands are the most frequent construct of a large plan.
      const primary = this.OR7((this.operandAlts ??= [
        { ALT: () => { const t = this.CONSUME7(StringTok, LABEL.string); if (this.live) return this.b.primaryToken(t, 'string'); } },
        { ALT: () => { const t = this.CONSUME7(AnyNumber, LABEL.number); if (this.live) return this.b.primaryToken(t, 'number'); } },
        { ALT: () => { const t = this.CONSUME7(R.true, LABEL.bool); if (this.live) return this.b.primaryToken(t, 'bool'); } },
        { ALT: () => { const t = this.CONSUME7(R.false, LABEL.bool); if (this.live) return this.b.primaryToken(t, 'bool'); } },
        { ALT: () => { const t = this.CONSUME7(R.null, LABEL.null); if (this.live) return this.b.primaryToken(t, 'null'); } },
        {
          ALT: () => {
            const name = this.CONSUME7(Name, LABEL.name);
            const args = this.OPTION7(this.callSuffix);
            if (this.live) return this.b.nameOrCall(name, v(args), args ? this.end() : 0);
          },
        },
        {
          ALT: () => {
            const open = this.CONSUME7(LParen);
            const inner = this.SUBRULE7(this.expression, LABEL.inner);
            const close = this.CONSUME7(RParen);
            if (this.live) return { kind: 'ParenExpr', inner: v<A.Expr>(inner), range: this.b.span(open.startOffset, close.endOffset! + 1) } satisfies A.ParenExpr;
          },
        },
        { ALT: () => this.SUBRULE7(this.listLit) },
        { ALT: () => this.SUBRULE7(this.recordLit) },
      ]));
      if (this.live) this.acc = v(primary);
      this.MANY7(this.accessLoop);
      return this.acc;
    }

    private operandAlts?: IOrAlt<unknown>[];
    private readonly callSuffix = (): unknown => this.SUBRULE7(this.positionalArgs);
    private readonly accessAlts: IOrAlt<unknown>[] = [
      {
        ALT: () => {
          this.CONSUME7(Dot);
          const m = this.CONSUME8(FieldName, LABEL.member);
          if (this.live) this.acc = this.b.member(this.acc!, m);
        },
      },
      {
        ALT: () => {
          const object = this.acc;
          this.CONSUME7(LBracket);
          const index = this.SUBRULE8(this.expression, LABEL.index);
          const close = this.CONSUME7(RBracket);
          if (this.live) this.acc = this.b.indexExpr(object!, v(index), close);
        },
      },
    ];
    private readonly accessLoop = (): void => {
      this.OR8(this.accessAlts);
    };
  };
}

export type ExpressionRules = ReturnType<typeof expressionRules>;
