/**
 * The module piscina loads in each worker thread: CommonJS, so that piscina's `require()` of it
 * never takes Node's require-of-an-ES-module path. On Node 22 that path aborts the whole process
 * (`CreateRequiredModuleFacade` assertion, seen on CI) when the pool ends a worker while the
 * module is still being instantiated — a runtime closed just after it started, or a worker
 * replaced. worker.js is loaded here with `import()`, which an ended worker merely leaves
 * unsettled.
 */
type Worker = typeof import('./worker.js', { with: { 'resolution-mode': 'import' } });
type Task = Parameters<Worker['default']>[0];
type Chunk = Parameters<Worker['runChunk']>[0];

let loaded: Promise<Worker> | null = null;
const worker = (): Promise<Worker> => (loaded ??= import('./worker.js'));
// Loaded as the thread starts, as piscina would have, not at its first task (a failure is the task's).
worker().catch(() => undefined);

export default async function runTask(task: Task): ReturnType<Worker['default']> {
  return (await worker()).default(task);
}

export async function runChunk(chunk: Chunk): ReturnType<Worker['runChunk']> {
  return (await worker()).runChunk(chunk);
}
