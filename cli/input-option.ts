/**
 * `--input JSON|@file` of the commands that only read a plan's input (preview, diff): undefined
 * when not given, a value that does not parse a usage error (exit 2). The runtime is loaded only
 * when the option is there, so a plain preview starts without it.
 */
import type { PlanIR } from '../compiler/index.js';
import { CliError } from './errors.js';

export async function inputOption(raw: string | undefined): Promise<unknown> {
  if (raw === undefined) return undefined;
  const { readJsonArg } = await import('../runtime/index.js');
  try {
    return readJsonArg(raw, '--input');
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

/**
 * A parsed `--input` as the run of `plan` would start with it (unit literals read, defaults filled,
 * checked against the plan's input type): what does not match is a usage error (exit 2), as `orch
 * run` says it.
 */
export async function typedInput(plan: PlanIR, input: unknown): Promise<unknown> {
  const { planInput } = await import('../runtime/index.js');
  try {
    return planInput(plan, input);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

/** A parsed `--context` value: context signals are named, so only a JSON object is one (exit 2). */
export function contextSignals(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CliError('--context must be a JSON object', 2);
  return value as Record<string, unknown>;
}
