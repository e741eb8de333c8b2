/**
 * `orch signal` and the MCP server's `signal` tool decide approvals on the journal directly, with
 * no authenticated person: `--by` is a name someone typed. Where people are configured (an `auth`
 * block, LANGUAGE.md §8.8) that name would reach the journal as the approver, and `approvals` /
 * `not_starter` would be bypassed — so there they refuse, and people decide in the dashboard or
 * with their own API token. Without an `auth` block nothing changes.
 */
import { resolve } from 'node:path';
import { projectRootOf } from '../../compiler/index.js';
import { loadConfig } from '../../runtime/index.js';
import { CliError } from '../errors.js';
import { decisionRoute } from '../decision-route.js';

/**
 * Throws (exit 2) when the run's project — the one its recorded plan comes from, whose config the
 * runtime applies when the run continues — or the working directory's project (whose config
 * `orch ui` serves here) has an `auth` block. A config that cannot be read is exit 2 as well: then
 * nobody can tell whether people are configured.
 */
export async function refuseDecisionWhenPeopleConfigured(runId: string, step: string, recordedIr: string | null, cwd: string): Promise<void> {
  const roots = new Set<string>();
  const baseDir = recordedIr ? (JSON.parse(recordedIr) as { base_dir?: unknown }).base_dir : undefined;
  if (typeof baseDir === 'string' && baseDir !== '') roots.add(projectRootOf(resolve(cwd, baseDir)));
  roots.add(projectRootOf(cwd));
  for (const root of roots) {
    let config;
    try {
      config = await loadConfig(root);
    } catch (err) {
      throw new CliError((err as Error).message, 2);
    }
    if (config.auth)
      throw new CliError(
        `people are configured (the "auth" block of ${config.file}), so an approval is decided by a signed-in person, not by a name given here: ` +
          `approve or reject step ${step} of run ${runId} in the dashboard (orch serve / orch ui), or with that person's API token ` +
          `(orch auth token USER): POST ${decisionRoute(runId, step)}/approve (or /reject)`,
        2,
      );
  }
}
