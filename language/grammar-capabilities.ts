/**
 * The grammar's capabilities and resources (a layer over grammar-types.ts): what a plan can call
 * and what provides it. Both are blocks of keyword-led properties (grammar-blocks.ts); the
 * builders give each property its meaning and its errors.
 */
import type * as A from './ast.js';
import { LABEL } from './grammar-labels.js';
import type { TypeRules } from './grammar-types.js';
import { AnyNumber, K, LCurly, Minus, Name, RCurly, StringTok } from './lexer.js';

export function capabilityRules(Base: TypeRules) {
  return class CapabilityRules extends Base {
    capabilityDecl = this.RULE('capabilityDecl', () => {
      const kw = this.CONSUME(K.capability);
      const name = this.CONSUME(Name, LABEL.name);
      const from = this.OPTION(() => {
        this.CONSUME(K.from);
        return this.SUBRULE(this.qualifiedName, LABEL.from);
      });
      this.CONSUME(LCurly);
      const props = this.itemsOrJunk('capabilityDecl', () => this.SUBRULE(this.capabilityProp));
      this.CONSUME(RCurly);
      if (this.live) return this.b.capabilityOf(name, props, kw.startOffset, this.end(), from as A.QualifiedName | undefined);
    });

    capabilityProp = this.RULE('capabilityProp', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.kind, LABEL.key); const w = this.CONSUME(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.input, LABEL.key); const r = this.SUBRULE(this.recordType); return this.prop(k, r); } },
        { ALT: () => { const k = this.CONSUME(K.output, LABEL.key); const t = this.SUBRULE(this.typeExpr); return this.prop(k, t); } },
        { ALT: () => { const k = this.CONSUME(K.handler, LABEL.key); const s = this.CONSUME(StringTok); return this.prop(k, s); } },
        { ALT: () => { const k = this.CONSUME(K.timeout, LABEL.key); const d = this.CONSUME(AnyNumber); return this.prop(k, d); } },
        { ALT: () => { const r = this.SUBRULE(this.retrySpec); return this.item('retrySpec', r); } },
        { ALT: () => { const k = this.CONSUME(K.cost, LABEL.key); const m = this.CONSUME2(AnyNumber); return this.prop(k, m); } },
        { ALT: () => { const k = this.CONSUME(K.latency, LABEL.key); const d = this.CONSUME3(AnyNumber); return this.prop(k, d); } },
        { ALT: () => { const k = this.CONSUME(K.data, LABEL.key); const w = this.CONSUME2(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.consent, LABEL.key); const l = this.SUBRULE(this.stringList); return this.prop(k, l); } },
        { ALT: () => { const k = this.CONSUME(K.requires, LABEL.key); const l = this.SUBRULE(this.nameList); return this.prop(k, l); } },
        { ALT: () => { const k = this.CONSUME(K.idempotent, LABEL.key); const b = this.SUBRULE(this.boolLit); return this.prop(k, b); } },
        { ALT: () => { const k = this.CONSUME(K.destructive, LABEL.key); const b = this.SUBRULE2(this.boolLit); return this.prop(k, b); } },
        // v0.3 (§8.1): what a `kind llm` capability asks a model.
        { ALT: () => { const k = this.CONSUME(K.system, LABEL.key); const s = this.CONSUME2(StringTok); return this.prop(k, s); } },
        { ALT: () => { const k = this.CONSUME(K.prompt, LABEL.key); const s = this.CONSUME3(StringTok); return this.prop(k, s); } },
        { ALT: () => { const k = this.CONSUME(K.model, LABEL.key); const s = this.CONSUME4(StringTok); return this.prop(k, s); } },
        // v0.4 (§9.1): the endpoint that answers it when its resource names none.
        { ALT: () => { const k = this.CONSUME(K.endpoint, LABEL.key); const s = this.CONSUME5(StringTok); return this.prop(k, s); } },
        // A sign is part of the value (not an expression), so `temperature -0.1` is E0801 out of range, not a parse error.
        { ALT: () => { const k = this.CONSUME(K.temperature, LABEL.key); const m = this.OPTION(() => this.CONSUME(Minus, LABEL.sign)); const n = this.CONSUME4(AnyNumber); return this.prop(k, this.live ? this.b.signed(m, n) : n); } },
        { ALT: () => { const k = this.CONSUME(K.max_tokens, LABEL.key); const m = this.OPTION2(() => this.CONSUME2(Minus, LABEL.sign)); const n = this.CONSUME5(AnyNumber); return this.prop(k, this.live ? this.b.signed(m, n) : n); } },
        // v0.4 (§9.3): the integrity of what it returns, and whether it endorses what it read.
        { ALT: () => { const k = this.CONSUME(K.trust, LABEL.key); const w = this.CONSUME3(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.endorses, LABEL.key); const b = this.SUBRULE3(this.boolLit); return this.prop(k, b); } },
      ]);
    });

    resourceDecl = this.RULE('resourceDecl', () => {
      const kw = this.CONSUME(K.resource);
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(LCurly);
      const props = this.itemsOrJunk('resourceDecl', () => this.SUBRULE(this.resourceProp));
      this.CONSUME(RCurly);
      if (this.live) return this.b.resourceOf(name, props, kw.startOffset, this.end());
    });

    resourceProp = this.RULE('resourceProp', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.kind, LABEL.key); const w = this.CONSUME(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.provides, LABEL.key); const l = this.SUBRULE(this.nameList); return this.prop(k, l); } },
        { ALT: () => { const k = this.CONSUME(K.concurrency, LABEL.key); const n = this.CONSUME4(AnyNumber); return this.prop(k, n); } },
        { ALT: () => { const k = this.CONSUME(K.cost, LABEL.key); const m = this.CONSUME(AnyNumber); return this.prop(k, m); } },
        { ALT: () => { const k = this.CONSUME(K.latency, LABEL.key); const d = this.CONSUME2(AnyNumber); return this.prop(k, d); } },
        { ALT: () => { const k = this.CONSUME(K.reliability, LABEL.key); const p = this.CONSUME3(AnyNumber); return this.prop(k, p); } },
        { ALT: () => { const k = this.CONSUME(K.location, LABEL.key); const s = this.CONSUME(StringTok); return this.prop(k, s); } },
        { ALT: () => { const k = this.CONSUME(K.energy, LABEL.key); const n = this.CONSUME5(AnyNumber); return this.prop(k, n); } },
        // v0.3 (§8.1): the model endpoint (a name in orch.config `endpoints`) and model it serves.
        { ALT: () => { const k = this.CONSUME(K.endpoint, LABEL.key); const s = this.CONSUME2(StringTok); return this.prop(k, s); } },
        { ALT: () => { const k = this.CONSUME(K.model, LABEL.key); const s = this.CONSUME3(StringTok); return this.prop(k, s); } },
        // v0.4: the highest class it takes (§9.3) and when it may be chosen (§9.4).
        { ALT: () => { const k = this.CONSUME(K.accepts, LABEL.key); const w = this.CONSUME2(Name, LABEL.word); return this.prop(k, w); } },
        { ALT: () => { const k = this.CONSUME(K.available, LABEL.key); this.CONSUME(K.when); const e = this.SUBRULE(this.expression); return this.prop(k, e); } },
      ]);
    });
  };
}

export type CapabilityRules = ReturnType<typeof capabilityRules>;
