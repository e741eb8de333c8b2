/**
 * W0803 for message channels (LANGUAGE.md §8.4, §8.9): a `notify` or `email` call naming a channel
 * (as a plain string) that the project's orch.config.json does not define. `notify` in a project
 * with no `channels` at all is v0.2's log-only notify and is not warned about; a JS config's
 * channels are unknown to the compiler, so it stays silent there. An `email` through a channel
 * whose transport is Slack or a webhook is warned about too: it cannot send.
 */
import type { CapabilityCall } from '../../language/index.js';
import { diagnostic, type Diagnostic } from '../../language/index.js';
import { channelShape, configFileFrom, configKnown, declaresNoChannels, configSection, configUnreadable, projectConfigFor } from '../project-config.js';

/** The message built-ins (builtinOf: std's or a refinement of it) and the channel each uses when the call names none. */
const CHANNEL_CAPABILITIES = new Map([
  ['notify', undefined],
  ['email', 'email'],
]);

export function channelWarnings(builtin: string | null, call: CapabilityCall, file: string, diags: Diagnostic[]): void {
  if (builtin === null || !CHANNEL_CAPABILITIES.has(builtin)) return;
  const arg = call.args.find((a) => a.name.name === 'channel');
  let name = CHANNEL_CAPABILITIES.get(builtin);
  if (arg) {
    const v = arg.value;
    if (v.kind !== 'StringLit' || v.parts.some((p) => typeof p !== 'string')) return;
    name = v.parts.join('');
  }
  if (name === undefined) return;
  const config = projectConfigFor(file);
  configUnreadable(config, diags, file);
  if (!configKnown(config)) return;
  const hasChannels = config.kind === 'json' && !declaresNoChannels(config.raw.channels);
  if (builtin === 'notify' && !hasChannels) return;
  const channels = configSection(config, 'channels');
  if (name in channels) {
    // email sends only through an email transport; a Slack or webhook channel would fail each attempt.
    const { transport, problem, recipients } = channelShape(channels[name]);
    const at = arg?.value.range ?? call.capability.range;
    // An entry orch run cannot send through (runtime/channels): it fails the step at every attempt.
    if (transport === undefined)
      diags.push(diagnostic('W0803', `channel "${name}" of orch.config "channels" names no transport ("email", "slack" or "webhook"): the step will fail when it runs`, file, at));
    if (problem) diags.push(diagnostic('W0803', `channel "${name}" of orch.config "channels": ${problem}: the step will fail when it runs`, file, at));
    // notify names no recipients: an email channel without its own `to` has no one to send to.
    if (builtin === 'notify' && transport === 'email' && !problem && !recipients)
      diags.push(diagnostic('W0803', `email channel "${name}" of orch.config "channels" has no recipients ("to"), and notify names none: the step will fail when it runs`, file, at));
    if (builtin === 'email' && transport !== undefined && transport !== 'email')
      diags.push(diagnostic('W0803', `channel "${name}" is a ${transport} channel: email sends through an email channel, so the step will fail when it runs`, file, at));
    return;
  }
  const where = config.kind === 'json' ? `"channels" of ${configFileFrom(config.file, file)}` : 'orch.config.json (there is none)';
  diags.push(diagnostic('W0803', `channel "${name}" is not defined in ${where}: the step will fail when it runs`, file, arg?.value.range ?? call.capability.range));
}
