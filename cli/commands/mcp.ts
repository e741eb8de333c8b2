/**
 * `orch mcp …`: Orch and the Model Context Protocol. `orch mcp serve` (cli/commands/mcp-serve.ts)
 * serves Orch's compiler, verifier and runs to assistants (LANGUAGE.md §8.5).
 */
import type { Command } from 'commander';
import { registerMcpServe } from './mcp-serve.js';

export function registerMcp(program: Command): void {
  const mcp = program.command('mcp').description('Orch and the Model Context Protocol: `orch mcp serve` serves the compiler to assistants');
  registerMcpServe(mcp);
}
