/** The CST path's plan bodies: steps (their actions and options), `for each`, `race` and `repeat` blocks. */
import type { CstNode } from 'chevrotain';
import type * as A from './ast.js';
import { child, need, nodes, nodeSpan, token, tokens, MISSING } from './cst-access.js';
import { CstExpressionBuilder } from './cst-expressions.js';
import { NONE, STEP_OPTION_KEYS, type Mutable, type StepOptionKey } from './node-builders.js';

export class CstStatementBuilder extends CstExpressionBuilder {
  protected step(n: CstNode): A.StepDecl {
    const span = need(nodeSpan(n));
    const name = this.ident(token(n, 'name'));
    const actionNode = child(n, 'capabilityCall') ?? child(n, 'waitAction') ?? child(n, 'waitUntilAction') ?? child(n, 'runAction');
    const action = this.stepAction(need(actionNode));
    const d: Mutable<A.StepDecl> = { kind: 'StepDecl', name, action, after: NONE, range: this.range(span[0], span[1]) };
    const inlineWhen = child(n, 'when');
    const hasBlock = token(n, 'LCurly') !== undefined;
    if (!inlineWhen && !hasBlock) return this.withDoc(d, span[0]);
    const bag = this.newBag(`step '${name.name}'`);
    if (inlineWhen) {
      const whenTok = need(token(n, 'Kw_when'));
      this.firstTime(bag, 'when', whenTok.startOffset, whenTok.endOffset! + 1);
      d.when = this.expression(inlineWhen);
    }
    // Options are direct children: `<key>Key` tokens and `<key>Value` values (retry: a node).
    for (const [key, keyLabel, value] of hasBlock ? STEP_OPTIONS : NONE_OPTIONS) {
      const keys = key === 'retry' ? nodes(n, value).map((r) => token(r, 'Kw_retry')) : tokens(n, keyLabel);
      if (keys.length === 0) continue;
      // A repeated option is an E0102; the first occurrence applies.
      for (const k of keys) if (k) this.firstTime(bag, key, k.startOffset, k.endOffset! + 1);
      // A block `when` after an inline one is not built (only reported as given twice).
      if (key === 'when' && d.when) continue;
      this.attempt(() => this.stepOption(d, key, this.stepOptionValue(n, key, value)));
    }
    return this.withDoc(d, span[0]);
  }

  /** A step option's value as the direct path gets it (its token, or its sub-rule built). */
  protected stepOptionValue(n: CstNode, key: StepOptionKey, value: string): unknown {
    switch (key) {
      case 'after': return this.nameList(child(n, value));
      case 'on': return this.qualifiedName(child(n, value));
      case 'fallback':
      case 'compensate': return this.capabilityCallNode(need(child(n, value)));
      case 'retry': return this.retrySpecNode(child(n, value));
      case 'when': return this.expression(child(n, value));
      default: return need(token(n, value));
    }
  }

  protected stepAction(n: CstNode): A.StepAction {
    const range = this.nodeRange(n);
    switch (n.name) {
      case 'waitUntilAction': {
        const a: Mutable<A.WaitUntilAction> = { kind: 'WaitUntilAction', condition: this.expression(child(n, 'expression')), range };
        const t = token(n, 'AnyNumber');
        // A timeout of another unit is reported (E0203) and left out, not the whole step.
        const timeout = t ? this.attempt(() => this.unitLit(t, 'timeout', 'duration')) : undefined;
        if (timeout) a.timeout = timeout;
        return a;
      }
      case 'waitAction':
        return { kind: 'WaitAction', duration: this.expression(child(n, 'expression')), range };
      case 'runAction': {
        const argsNode = child(n, 'callArgs');
        const { args, lost } = argsNode ? this.args(argsNode) : { args: [], lost: false };
        const a: Mutable<A.RunAction> = { kind: 'RunAction', plan: this.qualifiedName(child(n, 'qualifiedName')), args, range };
        if (lost) a.argsLost = true;
        return a;
      }
      case 'capabilityCall':
        return this.capabilityCallNode(n);
      default:
        throw MISSING;
    }
  }

  protected capabilityCallNode(n: CstNode): A.CapabilityCall {
    const { args, lost } = this.args(need(child(n, 'callArgs')));
    const call = this.capabilityCall(this.qualifiedName(n), args, this.nodeRange(n));
    return lost ? { ...call, argsLost: true } : call;
  }

  /** The arguments that could be built, and whether any was dropped for an error in it. */
  protected args(n: CstNode): { args: A.Argument[]; lost: boolean } {
    const names = tokens(n, 'argName');
    const values = nodes(n, 'argValue');
    const out: A.Argument[] = [];
    let lost = false;
    for (let i = 0; i < names.length; i++) {
      const nameTok = names[i]!;
      // After recovery a name may lack its value: pair each value with the name before it.
      const next = names[i + 1]?.startOffset ?? Infinity;
      const valueNode = names.length === values.length ? values[i] : values.find((v) => {
        const s = nodeSpan(v);
        return s !== undefined && s[0] > nameTok.startOffset && s[0] < next;
      });
      const arg = this.attempt(() => this.argument(nameTok, this.expression(valueNode)));
      if (arg) out.push(arg);
      else lost = true;
    }
    // No `)` of its own: recovery cut the list short (`f(a: 1 b: 2)`), so what follows the
    // error may be more arguments.
    const close = token(n, 'RParen');
    if (n.recoveredNode || !close || close.isInsertedInRecovery) lost = true;
    return { args: out, lost };
  }

  protected forEach(n: CstNode): A.ForEachDecl {
    const item = need(token(n, 'item'));
    const list = this.expression(child(n, 'list'));
    return this.forEachDecl(item, list, token(n, 'parallel'), this.blockBody(n), this.nodeRange(n));
  }

  /** The steps and nested blocks of a block node, in source order. */
  protected blockBody(n: CstNode): A.BlockItem[] {
    const body: A.BlockItem[] = [];
    for (const st of nodes(n, 'stepDecl')) {
      const x = this.attempt(() => this.step(st));
      if (x) body.push(x);
    }
    for (const loop of nodes(n, 'forEach')) {
      const x = this.attempt(() => this.forEach(loop));
      if (x) body.push(x);
    }
    for (const r of nodes(n, 'raceBlock')) {
      const x = this.attempt(() => this.race(r));
      if (x) body.push(x);
    }
    for (const r of nodes(n, 'repeatBlock')) {
      const x = this.attempt(() => this.repeat(r));
      if (x) body.push(x);
    }
    body.sort((a, b) => a.range.start.offset - b.range.start.offset);
    return body;
  }

  protected race(n: CstNode): A.RaceDecl {
    const body: A.StepDecl[] = [];
    for (const st of nodes(n, 'stepDecl')) {
      const x = this.attempt(() => this.step(st));
      if (x) body.push(x);
    }
    return this.raceDecl(token(n, 'name'), body, this.nodeRange(n));
  }

  protected repeat(n: CstNode): A.RepeatDecl {
    const name = need(token(n, 'name'));
    const until = this.expression(child(n, 'until'));
    return this.repeatDecl(name, token(n, 'max'), until, token(n, 'on_failureValue'), this.blockBody(n), this.nodeRange(n));
  }
}

/** Step options in the order they are assigned, with the labels of their key and value children. */
const STEP_OPTIONS = STEP_OPTION_KEYS.map((key) => [key, `${key}Key`, `${key}Value`] as const);
const NONE_OPTIONS: typeof STEP_OPTIONS = [];
