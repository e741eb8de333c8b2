import { compile, check, type CompileOutput } from '../index.js';
import { diskHost, type SourceHost } from '../load.js';
import type { Diagnostic } from '../../language/index.js';

export const DIR = '/virtual/project';

export function memoryHost(files: Record<string, string>): SourceHost {
  return { readFile: (p) => files[p] ?? (p.startsWith(DIR) ? undefined : diskHost.readFile(p)) };
}

/** Compiles `main` (and other virtual files) as `/virtual/project/main.orch`. */
export function compileText(main: string, others: Record<string, string> = {}, plan?: string): CompileOutput {
  const files: Record<string, string> = { [`${DIR}/main.orch`]: main };
  for (const [k, v] of Object.entries(others)) files[`${DIR}/${k}`] = v;
  return compile({ entry: `${DIR}/main.orch`, host: memoryHost(files), plan });
}

export function checkText(main: string, others: Record<string, string> = {}): Diagnostic[] {
  const files: Record<string, string> = { [`${DIR}/main.orch`]: main };
  for (const [k, v] of Object.entries(others)) files[`${DIR}/${k}`] = v;
  return check({ entry: `${DIR}/main.orch`, host: memoryHost(files) });
}

export function codes(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => d.code);
}

/** The source text a diagnostic's range covers. */
export function covered(text: string, d: Diagnostic): string {
  return text.slice(d.range.start.offset, d.range.end.offset);
}

/** A small valid program: two capabilities, one local and one cloud resource, one plan. */
export const BASE = `
capability fetch {
  kind tool
  input { url: string, retries: int = 1 }
  output { body: string, size: int }
  cost 0.01usd
  latency 2s
  requires http
}
capability summarize {
  kind llm  handler "./handlers.js#summarize"
  input { text: string }
  output { summary: string, label: "good" | "bad" }
  cost 0.02usd
  latency 3s
  requires llm
}
resource laptop {
  kind local_device
  provides http
  cost 0usd
  latency 10ms
}
resource cloud {
  kind cloud_region
  provides llm, http
  cost 0.001usd
  latency 100ms
}
`;
