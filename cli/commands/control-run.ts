/**
 * What `orch pause`, `orch cancel` and `orch signal` do to a run: through a runtime that executes
 * nothing, the control reaches the run here, in the process running it (a control row it polls), or
 * the journal of a run no process executes.
 */
import type { ControlOutcome, Runtime } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { controlRuntime } from '../db-option.js';

/** Applies `act` to the run; its message on stdout, or a refusal as exit 2. */
export async function controlRun(db: string, act: (rt: Runtime) => Promise<ControlOutcome>): Promise<ControlOutcome> {
  const rt = await controlRuntime(db);
  let r: ControlOutcome;
  try {
    r = await act(rt);
  } finally {
    await rt.close();
  }
  if (!r.ok) throw new CliError(r.message, 2);
  return r;
}
