/**
 * The starters this machine makes (§9.1): the OS user of a command-line start, a trigger's own.
 * The identity vocabulary itself (`Identity`, `Starter`, `samePerson` …) is the scheduler core's
 * (`../scheduler/core/identity.ts`), re-exported here for the people modules and the runtime.
 */
import { userInfo } from 'node:os';
import { OS_ISSUER, SYSTEM_ISSUER, type Starter } from '../scheduler/core/identity.js';

export * from '../scheduler/core/identity.js';

/** §9.1: a start from this machine's command line (`orch run`, `orch retry`, the MCP server): the OS user. */
export function cliStarter(user: string = osUser()): Starter {
  return { subject: user, issuer: OS_ISSUER, method: 'cli' };
}

/** §9.1: a run a trigger started on its own (`schedule`, `when`, `after`). */
export function triggerStarter(trigger: string): Starter {
  return { subject: `system:trigger/${trigger}`, issuer: SYSTEM_ISSUER, method: 'trigger' };
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // A uid without a passwd entry (some containers): the environment's name, else the uid.
    return process.env.USER || process.env.LOGNAME || `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}
