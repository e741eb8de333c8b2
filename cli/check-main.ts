/**
 * `orch check` alone. `npm run build` bundles this entry with esbuild into `dist/cli/check.js`
 * (one module instead of some forty), which `bin/orch.js` runs for `orch check` while it is newer
 * than the compiled tree; otherwise `orch check` goes through `main.ts` like every command.
 * Only the check command is registered: `orch check …` parses and behaves exactly as there.
 */
import { registerCheck } from './commands/check.js';
import { runCli } from './program.js';

export function main(argv: readonly string[]): Promise<number> {
  return runCli(argv, async () => [registerCheck]);
}
