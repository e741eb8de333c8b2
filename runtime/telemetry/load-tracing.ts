/**
 * Brings the OpenTelemetry SDK in only when tracing is on (a dynamic import): with no endpoint set
 * nothing here is loaded. Apart from `./tracing.ts` (the interfaces), so the SDK-backed
 * implementation can implement them without importing its own loader.
 */
import type { TelemetrySettings } from './settings.js';
import type { RunTracing, WorkerTracing } from './tracing.js';

/**
 * The SDK-backed tracing of `settings`: its thread (and the SDK in it) starts now. `redact` blanks
 * secrets in error text; `warn` is told once when the endpoint cannot be reached (default stderr).
 */
export async function loadTracing(settings: TelemetrySettings, redact: (text: string) => string, warn?: (line: string) => void): Promise<RunTracing> {
  const { RunSpanTracing } = await import('./run-spans.js');
  return new RunSpanTracing(settings, redact, warn);
}

/** What an `orch worker` traces with (see `WorkerTracing`). */
export async function loadWorkerTracing(settings: TelemetrySettings, redact: (text: string) => string): Promise<WorkerTracing> {
  const { RunSpanTracing } = await import('./run-spans.js');
  return new RunSpanTracing(settings, redact);
}
