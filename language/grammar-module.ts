/**
 * The grammar's top level (the last layer of rules, over grammar-tests.ts): a file is a list of
 * declarations — `module`, imports, and every declaration of the layers below. Tokens that
 * cannot start one are junk, so one bad line at the top level does not end the parse.
 */
import type { IOrAlt } from 'chevrotain';
import { tokenMatcher } from './chevrotain.js';
import type * as A from './ast.js';
import { LABEL, v } from './grammar-labels.js';
import type { TestRules } from './grammar-tests.js';
import { FieldName, K, LCurly, Name, RCurly, StringTok, TopJunk } from './lexer.js';

export function moduleRules(Base: TestRules) {
  return class ModuleRules extends Base {
    /** Tokens that cannot start a declaration are consumed as `junk` so one bad line at the top
     *  level does not end the parse; the CST→AST phase reports each run of them once. */
    moduleFile = this.RULE('moduleFile', () => {
      const items: unknown[] | undefined = this.live ? [] : undefined;
      this.MANY(() => {
        // One token of lookahead and a gate rather than two tokens of the grammar's: a block
        // declaration that lost its name (`plan {`) is still a declaration, so that its parse says
        // what is missing and reads its block; a declaration word used otherwise is junk.
        this.OR({ MAX_LOOKAHEAD: 1, IGNORE_AMBIGUITIES: true, DEF: [
          {
            GATE: () => this.startsTopItem(),
            ALT: () => {
              const d = this.SUBRULE(this.topItem);
              items?.push(d);
              if (this.releasing) this.releaseConsumed();
            },
          },
          {
            ALT: () => {
              this.CONSUME(TopJunk, LABEL.junk);
              this.ACTION(() => this.sawJunk());
            },
          },
        ] });
      });
      if (this.live) return this.b.moduleOf(v(items));
    });

    /**
     * Whether a declaration keyword starts a declaration: its name (or `{`) follows it. A reserved
     * word in the name's place (`capability in {`) is a declaration too: its parse says the word
     * cannot be a name and reads the rest.
     */
    private startsTopItem(): boolean {
      const next = this.LA(2);
      return tokenMatcher(next, FieldName) || next.tokenType === StringTok || next.tokenType === LCurly;
    }

    topItem = this.RULE('topItem', () => {
      const start = this.live ? this.at() : 0;
      const d = v<A.ModuleDecl | A.ImportDecl | A.Declaration>(this.OR((this.topItemAlts ??= [
        { ALT: () => this.SUBRULE(this.moduleDecl) },
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.typeAlias) },
        { ALT: () => this.SUBRULE(this.capabilityDecl) },
        { ALT: () => this.SUBRULE(this.resourceDecl) },
        { ALT: () => this.SUBRULE(this.policyDecl) },
        { ALT: () => this.SUBRULE(this.guardrailDecl) },
        { ALT: () => this.SUBRULE(this.contextDecl) },
        { ALT: () => this.SUBRULE(this.planDecl) },
        { ALT: () => this.SUBRULE(this.triggerDecl) },
        { ALT: () => this.SUBRULE(this.invariantDecl) },
        { ALT: () => this.SUBRULE(this.simulateDecl) },
        { ALT: () => this.SUBRULE(this.sourceDecl) },
        { ALT: () => this.SUBRULE(this.testDecl) },
      ])));
      if (!this.live) return;
      if (d.kind === 'ModuleDecl' || d.kind === 'FileImport' || d.kind === 'StdImport') return d;
      return this.b.declarationOf(d, start);
    });
    /** The alternatives, built once per parser (see `planItemAlts`, grammar-plans.ts). */
    private topItemAlts?: IOrAlt<unknown>[];

    moduleDecl = this.RULE('moduleDecl', () => {
      const kw = this.CONSUME(K.module);
      const name = this.SUBRULE(this.qualifiedName);
      if (this.live) return { kind: 'ModuleDecl', name: v<A.QualifiedName>(name), range: this.b.span(kw.startOffset, this.end()) } satisfies A.ModuleDecl;
    });

    importDecl = this.RULE('importDecl', () => {
      const kw = this.CONSUME(K.import);
      const made = this.OR([
        {
          ALT: () => {
            this.CONSUME(K.mcp, LABEL.mcp);
            const path = this.CONSUME2(StringTok, LABEL.path);
            this.CONSUME2(K.as);
            const alias = this.CONSUME2(Name, LABEL.alias);
            if (this.live) {
              const b = this.b;
              const imp: A.FileImport = { kind: 'FileImport', path: b.plainString(path), pathRange: b.tokRange(path), alias: b.ident(alias), range: b.span(kw.startOffset, this.end()), mcp: true };
              return imp;
            }
          },
        },
        {
          ALT: () => {
            const path = this.CONSUME(StringTok, LABEL.path);
            this.CONSUME(K.as);
            const alias = this.CONSUME(Name, LABEL.alias);
            if (this.live) {
              const b = this.b;
              const imp: A.FileImport = { kind: 'FileImport', path: b.plainString(path), pathRange: b.tokRange(path), alias: b.ident(alias), range: b.span(kw.startOffset, this.end()) };
              return imp;
            }
          },
        },
        {
          ALT: () => {
            const path = this.SUBRULE(this.qualifiedName);
            const names = this.OPTION(() => {
              this.CONSUME(LCurly);
              const list = this.OPTION2(() => this.SUBRULE(this.nameList));
              this.CONSUME(RCurly);
              return list ?? [];
            });
            if (this.live) {
              const imp: { -readonly [P in keyof A.StdImport]: A.StdImport[P] } = { kind: 'StdImport', path: v(path), range: this.b.span(kw.startOffset, this.end()) };
              if (names !== undefined) imp.names = v(names);
              return imp;
            }
          },
        },
      ]);
      return made;
    });
  };
}

export type ModuleRules = ReturnType<typeof moduleRules>;
