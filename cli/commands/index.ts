/**
 * Every CLI command, in the order `orch --help` lists them.
 *
 * Each entry loads its module on demand: `orch check` must not pay for loading the runtime,
 * the server or the language server (start-up time counts against `orch check`'s budget).
 */
import type { Register } from '../program.js';

export interface CommandEntry {
  /** The top-level command names the module registers. */
  readonly names: readonly string[];
  readonly load: () => Promise<Register>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { names: ['check'], load: async () => (await import('./check.js')).registerCheck },
  { names: ['fmt'], load: async () => (await import('./fmt.js')).registerFmt },
  { names: ['compile'], load: async () => (await import('./compile.js')).registerCompile },
  { names: ['preview'], load: async () => (await import('./preview.js')).registerPreview },
  { names: ['graph'], load: async () => (await import('./graph.js')).registerGraph },
  { names: ['run'], load: async () => (await import('./run.js')).registerRun },
  { names: ['resume'], load: async () => (await import('./resume.js')).registerResume },
  { names: ['retry'], load: async () => (await import('./retry.js')).registerRetry },
  { names: ['fork'], load: async () => (await import('./fork.js')).registerFork },
  { names: ['pause'], load: async () => (await import('./pause.js')).registerPause },
  { names: ['cancel'], load: async () => (await import('./cancel.js')).registerCancel },
  { names: ['signal'], load: async () => (await import('./signal.js')).registerSignal },
  { names: ['runs'], load: async () => (await import('./runs.js')).registerRuns },
  { names: ['timeline'], load: async () => (await import('./timeline.js')).registerTimeline },
  { names: ['diff'], load: async () => (await import('./diff.js')).registerDiff },
  { names: ['upgrade'], load: async () => (await import('./upgrade.js')).registerUpgrade },
  { names: ['verify'], load: async () => (await import('./verify.js')).registerVerify },
  { names: ['test'], load: async () => (await import('./test.js')).registerTest },
  { names: ['serve'], load: async () => (await import('./serve.js')).registerServe },
  { names: ['ui'], load: async () => (await import('./ui.js')).registerUi },
  { names: ['auth'], load: async () => (await import('./auth.js')).registerAuth },
  { names: ['audit'], load: async () => (await import('./audit.js')).registerAudit },
  { names: ['lsp'], load: async () => (await import('./lsp.js')).registerLsp },
  { names: ['db'], load: async () => (await import('./db.js')).registerDb },
  { names: ['worker', 'workers'], load: async () => (await import('./worker.js')).registerWorker },
  { names: ['mcp'], load: async () => (await import('./mcp.js')).registerMcp },
  { names: ['init'], load: async () => (await import('./init.js')).registerInit },
  { names: ['explain'], load: async () => (await import('./explain.js')).registerExplain },
  { names: ['draft'], load: async () => (await import('./draft.js')).registerDraft },
];

/**
 * The modules needed for this argv: only the named command's module when the first argument
 * names a command; all of them otherwise (`orch --help`, `orch help X`, a typo that commander
 * should answer with a suggestion).
 */
export async function loadCommands(argv: readonly string[]): Promise<Register[]> {
  const first = argv[2];
  const named = COMMANDS.filter((c) => first !== undefined && c.names.includes(first));
  const wanted = named.length > 0 ? named : COMMANDS;
  return Promise.all(wanted.map((c) => c.load()));
}
