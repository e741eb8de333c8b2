/**
 * The grammar's verification declarations (a layer over grammar-context.ts): invariants a plan
 * must keep (`always`, `never`, `eventually`), and simulations — how a capability behaves when a
 * plan is verified, or how stale the context's signals are (§9.4).
 */
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { ContextRules } from './grammar-context.js';
import { AnyNumber, K, LCurly, Name, RCurly, StringTok } from './lexer.js';

export function verificationRules(Base: ContextRules) {
  return class VerificationRules extends Base {
    invariantDecl = this.RULE('invariantDecl', () => {
      const kw = this.CONSUME(K.invariant);
      const name = this.OR([
        { ALT: () => this.CONSUME(Name, LABEL.name) },
        { ALT: () => this.CONSUME(StringTok, LABEL.name) },
        // `invariant { … }`: the name is missing, the block is still read as an invariant's.
        { GATE: () => this.LA(1).tokenType === LCurly, ALT: () => this.missingToken(Name) },
      ]);
      this.CONSUME(LCurly);
      const modality = this.OR2([
        { ALT: () => this.CONSUME(K.always, LABEL.modality) },
        { ALT: () => this.CONSUME(K.never, LABEL.modality) },
        { ALT: () => this.CONSUME(K.eventually, LABEL.modality) },
      ]);
      const condition = this.SUBRULE(this.expression);
      this.CONSUME(RCurly);
      if (this.live) return this.b.invariantOf(name, modality, v(condition), kw.startOffset, this.end());
    });

    simulateDecl = this.RULE('simulateDecl', () => {
      const kw = this.CONSUME(K.simulate);
      return this.OR({
        IGNORE_AMBIGUITIES: true,
        DEF: [
          {
            // v0.4 (§9.4): `simulate context { motion stale 20% }`.
            GATE: () => this.LA(1).tokenType === K.context && this.LA(2).tokenType === LCurly,
            ALT: () => {
              const signals = this.SUBRULE(this.simulateContext);
              if (this.live) return this.b.simulateContextOf(v(signals), kw.startOffset, this.end());
            },
          },
          {
            ALT: () => {
              const capability = this.SUBRULE(this.qualifiedName);
              this.CONSUME(LCurly);
              if (this.live) this.b.setInSimulate(true);
              const props = this.itemsOrJunk('simulateDecl', () => this.SUBRULE(this.simulateProp));
              if (this.live) this.b.setInSimulate(false);
              this.CONSUME(RCurly);
              if (this.live) return this.b.simulateOf(v(capability), props, kw.startOffset, this.end());
            },
          },
        ],
      });
    });

    simulateContext = this.RULE('simulateContext', () => {
      this.CONSUME(K.context, LABEL.contextKw);
      this.CONSUME(LCurly);
      const signals = this.itemsOrJunk<A.StaleSignal>('simulateContext', () => this.SUBRULE(this.staleSignal));
      this.CONSUME(RCurly);
      return signals;
    });

    staleSignal = this.RULE('staleSignal', () => {
      const name = this.CONSUME(Name, LABEL.name);
      this.CONSUME(K.stale);
      const share = this.CONSUME(AnyNumber, LABEL.value);
      if (this.live) return this.b.staleSignalOf(name, share, name.startOffset, this.end());
    });

    simulateProp = this.RULE('simulateProp', () => {
      return this.OR([
        { ALT: () => { const k = this.CONSUME(K.output, LABEL.key); const r = this.SUBRULE(this.recordLit); return this.prop(k, r); } },
        { ALT: () => { const k = this.CONSUME(K.fail, LABEL.key); const p = this.CONSUME(AnyNumber); return this.prop(k, p); } },
        { ALT: () => { const k = this.CONSUME(K.latency, LABEL.key); const e = this.SUBRULE(this.expression); return this.prop(k, e); } },
        { ALT: () => { const k = this.CONSUME(K.cost, LABEL.key); const e = this.SUBRULE2(this.expression); return this.prop(k, e); } },
      ]);
    });
  };
}

export type VerificationRules = ReturnType<typeof verificationRules>;
