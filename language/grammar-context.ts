/**
 * The grammar's context (a layer over grammar-guardrails.ts; LANGUAGE.md §9.4): the `context`
 * record a plan's steps read and the sources whose topics set its signals.
 */
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { GuardrailRules } from './grammar-guardrails.js';
import type { KeyedValue } from './node-builders.js';
import { K, LCurly, Name, RCurly, StringTok } from './lexer.js';

export function contextRules(Base: GuardrailRules) {
  return class ContextRules extends Base {
    contextDecl = this.RULE('contextDecl', () => {
      const kw = this.CONSUME(K.context);
      if (this.live) this.b.setInContext(true);
      const rec = this.SUBRULE(this.recordType);
      if (this.live) this.b.setInContext(false);
      if (this.live) return { kind: 'ContextDecl', fields: v<A.RecordType>(rec).fields, range: this.b.span(kw.startOffset, this.end()) } satisfies A.ContextDecl;
    });

    sourceDecl = this.RULE('sourceDecl', () => {
      const kw = this.CONSUME(K.source);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      const topics = this.itemsOrJunk<A.TopicMapping>('sourceDecl', () => this.SUBRULE(this.topicMapping));
      this.CONSUME(RCurly);
      if (this.live) return this.b.sourceOf(name, topics, kw.startOffset, this.end());
    });

    /** `topic "T" sets SIGNAL [from EXPR] [at EXPR]` (`from` and `at` in either order, each once). */
    topicMapping = this.RULE('topicMapping', () => {
      const kw = this.CONSUME(K.topic);
      const topic = this.CONSUME(StringTok, LABEL.topic);
      this.CONSUME(K.sets);
      const signal = this.CONSUME(Name, LABEL.name);
      let options: KeyedValue[] | undefined;
      this.MANY(() => {
        this.OR([
          {
            ALT: () => {
              const k = this.CONSUME(K.from, LABEL.key);
              const e = this.SUBRULE(this.expression, LABEL.fromValue);
              if (this.live) (options ??= []).push([k, v(e)]);
            },
          },
          {
            ALT: () => {
              const k = this.CONSUME(K.at, LABEL.key);
              const e = this.SUBRULE2(this.expression, LABEL.atValue);
              if (this.live) (options ??= []).push([k, v(e)]);
            },
          },
        ]);
      });
      if (this.live) return this.b.topicOf(topic, signal, options, kw.startOffset, this.end());
    });
  };
}

export type ContextRules = ReturnType<typeof contextRules>;
