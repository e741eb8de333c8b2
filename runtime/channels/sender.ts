/**
 * The std `notify` and `email` capabilities at run time (LANGUAGE.md §8.4), an edge handler of the
 * executor. A project with no `channels` in its config keeps v0.2's `notify`: the message goes to
 * the run's log and `delivered` is false. Otherwise the named channel must exist (else the step
 * fails: `channel "x" is not configured`) and `delivered` is true only once its transport took it.
 */
import { declaresNoChannels, type CapabilityIR } from '../../compiler/index.js';
import { configMemo, loadConfig, type OrchConfig } from '../config.js';
import { FinalAttemptError, runEdgeAttempt, type EdgeHandler } from '../executor/edge.js';
import { projectRoot } from '../executor/handler-path.js';
import type { AttemptHandle, AttemptOutcome, AttemptRequest } from '../scheduler/types.js';
import { envThenConfig } from '../secret-refs.js';
import { channelOf, deliver } from './channels.js';

const HANDLED = new Set(['notify', 'email']);

export class ChannelSender implements EdgeHandler {

  private readonly configFor: (root: string) => Promise<OrchConfig>;

  constructor(config: (root: string) => Promise<OrchConfig> = loadConfig) {
    this.configFor = configMemo(config);
  }

  handles(cap: CapabilityIR): boolean {
    const h = cap.handler;
    return !!h && 'builtin' in h && HANDLED.has(h.builtin);
  }

  start(req: AttemptRequest, done: (outcome: AttemptOutcome) => void, logged?: (lines: readonly string[]) => void): AttemptHandle {
    const which = (req.capability.handler as { builtin: string }).builtin;
    return runEdgeAttempt(req, done, logged, async (signal, log) => {
      const config = await this.configFor(projectRoot(req.plan.base_dir));
      const input = req.input as Record<string, unknown>;
      const channelName = typeof input.channel === 'string' ? input.channel : which === 'email' ? 'email' : 'default';
      const text = String(input.text ?? input.message ?? '');
      const level = typeof input.level === 'string' ? input.level : undefined;
      if (declaresNoChannels(config.channels) && which === 'notify') {
        // v0.2: no transport, the run's log is where the message goes; nothing was delivered.
        log(`[${channelName}]${level && level !== 'info' ? ` ${level.toUpperCase()}` : ''} ${text}`);
        return { delivered: false, channel: channelName };
      }
      const channel = channelOf(config.channels, channelName, envThenConfig({ ...config.secrets, ...req.secrets }));
      // A missing or malformed channel is configuration: retrying cannot fix it.
      if ('error' in channel) throw new FinalAttemptError(channel.error);
      if (which === 'email' && channel.kind !== 'email') throw new FinalAttemptError(`channel "${channelName}" is a ${channel.kind} channel, not an email one`);
      const to = Array.isArray(input.to) ? input.to.filter((x): x is string => typeof x === 'string') : undefined;
      const sent = await deliver(
        channel,
        {
          channel: channelName, text, runId: req.runId, stepId: req.stepId,
          ...(level ? { level } : {}),
          ...(to ? { to } : {}),
          ...(typeof input.subject === 'string' ? { subject: input.subject } : {}),
          ...(typeof input.html === 'string' ? { html: input.html } : {}),
        },
        signal,
      );
      log(`delivered through ${channel.kind} channel "${channelName}"`);
      return which === 'email'
        ? { delivered: true, channel: channelName, message_id: sent.messageId ?? null }
        : { delivered: true, channel: channelName };
    });
  }

  async close(): Promise<void> {}
}
