/**
 * Stand-alone entry of the language server (`node dist/lsp/main.js --stdio`), also the entry
 * esbuild bundles into the VS Code extension. `orch lsp --stdio` starts the same server.
 */
import { startStdioServer } from './stdio.js';

const delayArg = process.argv.indexOf('--diagnostics-delay');
const delay = delayArg > 0 ? Number(process.argv[delayArg + 1]) : NaN;
startStdioServer(Number.isFinite(delay) && delay >= 0 ? { diagnosticsDelayMs: delay } : {});
