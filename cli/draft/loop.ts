/**
 * The loop of `orch draft` (LANGUAGE.md §8.5), pure over two functions: `ask` sends the
 * conversation to a model and resolves to its answer; `check` compiles a candidate plan as the
 * file it will be and resolves to its diagnostics. Each round extracts the plan from the answer,
 * checks it, and — while errors are left and rounds remain — sends the diagnostics back.
 */
import type { Diagnostic } from '../../language/index.js';

export interface ChatMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string;
}

export interface DraftRound {
  readonly round: number;
  readonly source: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly errors: number;
}

export interface DraftInput {
  readonly system: string;
  readonly intent: string;
  readonly maxRounds: number;
  readonly ask: (system: string, messages: readonly ChatMessage[]) => Promise<string>;
  readonly check: (source: string) => Promise<readonly Diagnostic[]>;
  /** The diagnostics as the model is shown them (file:line:col, code, message, code frame). */
  readonly describe: (diagnostics: readonly Diagnostic[], source: string) => string;
  readonly firstMessage: (intent: string) => string;
  /** `errorDiagnostics` are the errors `diagnosticsText` shows (some may be in files the plan imports). */
  readonly repairMessage: (diagnosticsText: string, errors: number, errorDiagnostics: readonly Diagnostic[]) => string;
  readonly onRound?: (round: DraftRound) => void;
}

export interface DraftOutcome {
  /** The last round's plan and diagnostics. */
  readonly last: DraftRound;
  readonly rounds: readonly DraftRound[];
  readonly clean: boolean;
}

/** The plan in a model's answer: the first ```orch block, else the first fenced block, else the whole answer. */
export function extractPlan(answer: string): string {
  const fences = [...answer.matchAll(/```([A-Za-z0-9_-]*)[^\n]*\n([\s\S]*?)(?:```|$)/g)];
  const orch = fences.find((m) => m[1]!.toLowerCase() === 'orch') ?? fences[0];
  const text = orch ? orch[2]! : answer;
  return `${text.trim()}\n`;
}

export async function draftLoop(input: DraftInput): Promise<DraftOutcome> {
  const rounds: DraftRound[] = [];
  const messages: ChatMessage[] = [{ role: 'user', content: input.firstMessage(input.intent) }];
  for (let n = 1; n <= Math.max(1, input.maxRounds); n++) {
    const answer = await input.ask(input.system, messages);
    const source = extractPlan(answer);
    const diagnostics = await input.check(source);
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const round: DraftRound = { round: n, source, diagnostics, errors };
    rounds.push(round);
    input.onRound?.(round);
    if (errors === 0) return { last: round, rounds, clean: true };
    messages.push({ role: 'assistant', content: answer });
    const errorDiagnostics = diagnostics.filter((d) => d.severity === 'error');
    messages.push({ role: 'user', content: input.repairMessage(input.describe(errorDiagnostics, source), errors, errorDiagnostics) });
  }
  return { last: rounds[rounds.length - 1]!, rounds, clean: false };
}

/** Which diagnostics are the draft's own, and how another file is named in the draft (its path from the draft's folder). */
export interface DraftFiles {
  readonly own: (file: string) => boolean;
  readonly name: (file: string) => string;
}

/**
 * The plan with its remaining diagnostics as comments at the top (a file that keeps them in view).
 * The draft's own are at their line in the written file (below the comments); those of another
 * file (a module the draft imports) are at their own file and line: `// ../lib.orch:5:11: …`.
 */
export function withDiagnosticsAsComments(source: string, diagnostics: readonly Diagnostic[], rounds: number, files: DraftFiles): string {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return source;
  // The header and one line per error go above the plan.
  const shift = errors.length + 1;
  const where = (d: Diagnostic) => (files.own(d.file) ? `${d.range.start.line + shift}:${d.range.start.column}` : `${files.name(d.file)}:${d.range.start.line}:${d.range.start.column}`);
  const lines = [
    `// orch draft: ${errors.length} error${errors.length === 1 ? '' : 's'} left after ${rounds} round${rounds === 1 ? '' : 's'}; fix them, then \`orch check\` this file.`,
    ...errors.map((d) => `// ${where(d)}: error[${d.code}]: ${d.message.replace(/\n/g, ' ')}`),
  ];
  return `${lines.join('\n')}\n${source}`;
}
