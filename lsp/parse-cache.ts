/**
 * The last parse of each file, so the next parse of an edited text re-parses only the top-level
 * items the edit touched (`reparse`). Used as the compiler's `SourceHost.parse` in the check
 * worker, where one file is checked again after every keystroke.
 */
import { resolve } from 'node:path';
import { hasErrors, reparse, type ParsedText } from '../language/index.js';
import type { Module, ParseOutput } from '../language/index.js';

export class ParseCache {
  private readonly last = new Map<string, ParsedText>();

  /** Parses `text` of `file`, reusing the previous parse of that file. */
  readonly parse = (file: string, text: string): ParseOutput => {
    const key = resolve(file);
    // The cache keeps nothing of the previous parse but what it replaces it with: it may be consumed.
    const output = reparse({ file, text, previous: this.last.get(key), consume: true });
    this.last.set(key, { text, output });
    return output;
  };

  /** The last parse of `file` when it was of exactly `text`. */
  outputFor(file: string, text: string): ParseOutput | undefined {
    const last = this.last.get(resolve(file));
    return last && last.text === text ? last.output : undefined;
  }

  /** The last parse of `file`, if it was parsed. */
  moduleOf(file: string): Module | undefined {
    return this.last.get(resolve(file))?.output.module;
  }

  /** Whether the last parse of `file` found a syntax error (undefined: not parsed). */
  syntaxErrorsIn(file: string): boolean | undefined {
    const output = this.last.get(resolve(file))?.output;
    return output && hasErrors(output.diagnostics);
  }
}
