/**
 * What a handler writes to stdout or stderr (`console.log`, `process.stdout.write` …) becomes
 * step log lines (LANGUAGE.md §7.3) instead of reaching `orch`'s own stdout: worker threads
 * share the process's stdout, so one stray line would break `orch run --json`.
 *
 * The worker's `process.stdout.write` / `process.stderr.write` are replaced once, for good (the
 * global `console` of a worker thread writes through them), and route text to the task that is
 * running — piscina runs one task per worker at a time. Text written while no task runs (a timer a
 * handler left behind) goes to the next task's log as `[after …]`, never to the terminal.
 */
type Sink = (stream: 'stdout' | 'stderr', text: string) => void;

let current: Sink | null = null;
let stray: { stream: 'stdout' | 'stderr'; text: string }[] = [];
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const stream of ['stdout', 'stderr'] as const) {
    const target = process[stream];
    target.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      if (current) current(stream, text);
      else if (stray.length < 1000) stray.push({ stream, text });
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof target.write;
  }
}

/**
 * Collects the lines written during `fn` (complete lines as they come, a trailing partial line at
 * the end); `line` receives each one with its stream.
 */
export async function capturing<T>(line: (stream: 'stdout' | 'stderr', text: string) => void, fn: () => Promise<T>): Promise<T> {
  install();
  const partial = { stdout: '', stderr: '' };
  const sink: Sink = (stream, text) => {
    const parts = (partial[stream] + text).split('\n');
    partial[stream] = parts.pop()!;
    for (const p of parts) line(stream, p);
  };
  for (const s of stray) line(s.stream, `[after the previous step] ${s.text.replace(/\n$/, '')}`);
  stray = [];
  const previous = current;
  current = sink;
  try {
    return await fn();
  } finally {
    current = previous;
    for (const stream of ['stdout', 'stderr'] as const) if (partial[stream] !== '') line(stream, partial[stream]);
  }
}
