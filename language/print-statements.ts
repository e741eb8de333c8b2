/** The printer's plan bodies: steps and their actions and options, `for each`, `race`, `repeat`, invariants. */
import type { Argument, BlockItem, CapabilityCall, Comment, ForEachDecl, InvariantDecl, RepeatDecl, RetrySpec, StepAction, StepDecl } from './ast.js';
import { commentsWithin } from './comments.js';
import { group, indent, line, type Doc } from './layout.js';
import type { Item, Property } from './print-blocks.js';
import { ExprPrinter } from './print-expressions.js';
import { formatNumber } from './print-literals.js';

export class StatementPrinter extends ExprPrinter {
  protected bodyItem(b: BlockItem | InvariantDecl): Item {
    switch (b.kind) {
      case 'StepDecl':
        return { range: b.range, doc: b.doc, blankBefore: 'source', print: (inner) => this.step(b, inner) };
      case 'ForEachDecl':
        return { range: b.range, blankBefore: 'source', print: (inner) => this.forEach(b, inner) };
      case 'RaceDecl':
        return { range: b.range, blankBefore: 'source', print: (inner) => this.block(['race ', b.name.name], b.body.map((x) => this.bodyItem(x)), inner, b.range) };
      case 'RepeatDecl':
        return { range: b.range, blankBefore: 'source', print: (inner) => this.repeat(b, inner) };
      case 'InvariantDecl':
        return { range: b.range, doc: b.doc, blankBefore: 'source', print: (inner) => this.invariant(b, inner) };
    }
  }

  protected step(s: StepDecl, comments: Comment[]): Doc {
    const options: Property[] = [];
    if (s.after.length > 0) options.push(this.prop('after', this.wordList(s.after.map((a) => a.name)), s.after[0]!.range));
    if (s.on) options.push(this.prop('on', this.qname(s.on), s.on.range));
    if (s.timeout) options.push(this.prop('timeout', this.expr(s.timeout), s.timeout.range));
    if (s.retry) options.push(this.prop('retry', this.retry(s.retry), s.retry.range));
    if (s.join) options.push(this.prop('join', s.join));
    if (s.onFailure) options.push(this.prop('on_failure', s.onFailure));
    if (s.priority) options.push(this.prop('priority', s.priority));
    for (const [keyword, call] of [['fallback', s.fallback], ['compensate', s.compensate]] as const) {
      if (call) options.push({ keyword, value: call, print: (inner) => [keyword, ' ', this.capabilityCall(call, inner)] });
    }
    // Comments inside the action or the `when` condition go there; the rest belong to the options.
    const actionComments = commentsWithin(comments, s.action.range);
    const whenComments = s.when ? commentsWithin(comments, s.when.range) : [];
    const optionComments = comments.filter((c) => !actionComments.includes(c) && !whenComments.includes(c));
    // `when …` moves to its own line when it does not fit after the action.
    const head: Doc = [
      'step ',
      s.name.name,
      ' = ',
      this.action(s.action, actionComments),
      s.when ? group(indent(line, 'when ', this.exprC(s.when, whenComments))) : '',
    ];
    if (options.length === 0) return this.withTrailing(head, optionComments);
    // Only the options block `{ … }` is scanned: the scan starts after the head, because the
    // action or the `when` condition may hold a record whose `{` (and `timeout:` key) would
    // otherwise be taken for the block and its properties.
    const headEnd = (s.when ?? s.action).range.end;
    const items = this.propertyItems({ kind: s.kind, range: { start: headEnd, end: s.range.end } }, options, optionComments);
    return this.block(head, items, optionComments);
  }

  protected action(a: StepAction, comments: Comment[]): Doc {
    switch (a.kind) {
      case 'CapabilityCall':
        return this.capabilityCall(a, comments);
      case 'RunAction':
        // `run weekly_report` reads like a trigger's `run`; parentheses only with arguments.
        return ['run ', this.qname(a.plan), a.args.length === 0 ? this.withTrailing('', comments) : this.args(a.args, comments)];
      case 'WaitAction':
        return ['wait ', this.exprC(a.duration, comments)];
      case 'WaitUntilAction':
        return ['wait until ', this.exprC(a.condition, comments), a.timeout ? [' timeout ', this.expr(a.timeout)] : ''];
    }
  }

  protected capabilityCall(c: CapabilityCall, comments: Comment[]): Doc {
    return [this.qname(c.capability), this.args(c.args, comments)];
  }

  protected args(args: readonly Argument[], comments: Comment[]): Doc {
    const items: Item[] = args.map((a) => ({ range: a.range, print: (inner) => [a.name.name, ': ', this.exprC(a.value, inner)] }));
    return this.commaList('(', ')', items, comments, false);
  }

  protected forEach(f: ForEachDecl, comments: Comment[]): Doc {
    const listComments = commentsWithin(comments, f.list.range);
    const rest = comments.filter((c) => !listComments.includes(c));
    const head: Doc = [
      'for each ',
      f.item.name,
      ' in ',
      this.exprC(f.list, listComments),
      f.parallel ? [' parallel ', this.expr(f.parallel)] : '',
    ];
    return this.block(head, f.body.map((b) => this.bodyItem(b)), rest, f.range);
  }

  protected repeat(r: RepeatDecl, comments: Comment[]): Doc {
    const untilComments = commentsWithin(comments, r.until.range);
    const rest = comments.filter((c) => !untilComments.includes(c));
    const head: Doc = [
      'repeat ',
      r.name.name,
      r.max ? [' max ', this.expr(r.max)] : '',
      ' until ',
      this.exprC(r.until, untilComments),
      r.onFailure ? [' on_failure ', r.onFailure] : '',
    ];
    return this.block(head, r.body.map((b) => this.bodyItem(b)), rest, r.range);
  }

  protected invariant(d: InvariantDecl, comments: Comment[]): Doc {
    const name = d.name.kind === 'Ident' ? d.name.name : this.stringLit(d.name);
    if (comments.length === 0) return group('invariant ', name, ' {', indent(line, d.modality, ' ', this.expr(d.condition)), line, '}');
    // With comments inside, the body gets its own line so they can stay above or below it.
    const body: Item = { range: d.condition.range, print: (inner) => [d.modality, ' ', this.exprC(d.condition, inner)] };
    return this.block(['invariant ', name], [body], comments, d.range);
  }

  protected retry(r: RetrySpec): Doc {
    const b = r.backoff;
    return [
      formatNumber(r.attempts, true),
      b ? [' backoff ', b.kind, ' ', this.expr(b.delay), b.max ? [' max ', this.expr(b.max)] : ''] : '',
    ];
  }
}
