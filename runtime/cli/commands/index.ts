/** Every CLI command, in the order `orch --help` lists them. */
import type { Command } from 'commander';
import { registerCheck } from './check.js';
import { registerFmt } from './fmt.js';
import { registerCompile } from './compile.js';
import { registerPreview } from './preview.js';
import { registerGraph } from './graph.js';
import { registerRun } from './run.js';
import { registerRunControls } from './run-controls.js';
import { registerVerify } from './verify.js';
import { registerServe } from './serve.js';
import { registerLsp } from './lsp.js';
import { registerInit } from './init.js';
import { registerExplain } from './explain.js';

export const COMMANDS: readonly ((program: Command) => void)[] = [
  registerCheck,
  registerFmt,
  registerCompile,
  registerPreview,
  registerGraph,
  registerRun,
  registerRunControls,
  registerVerify,
  registerServe,
  registerLsp,
  registerInit,
  registerExplain,
];
