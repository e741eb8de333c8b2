/**
 * What the capture tests start from: a plan file and a test of it run on the virtual clock, its
 * journal kept, then captured as `orch test --capture` would capture a real run of it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { compile } from '../../compiler/index.js';
import type { RunEvent } from '../../runtime/index.js';
import { tempDir } from '../../runtime/test/helpers.js';
import { captureTest, runPlanTest } from '../index.js';

/** Runs the test `body` of `plan` (written as plans.orch beside `files`) and captures a test from its journal. */
/** `imports`: lines before the test in its file (the imports its mocks name). */
export async function runAndCapture(plan: string, body: string, files: Readonly<Record<string, string>> = {}, imports = '') {
  const dir = tempDir('orch-capture-');
  writeFileSync(join(dir, 'plans.orch'), plan);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const file = join(dir, 'source.test.orch');
  writeFileSync(file, `import "./plans.orch" as plans\n${imports}test "source" {\n${body}}\n`);
  const out = compile({ entry: file, navigation: false, tests: true });
  expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  let journal: readonly RunEvent[] = [];
  const ran = await runPlanTest(out.tests[0]!, { real: null, onJournal: (events) => (journal = events) });
  const captured = await captureTest({ runId: 'p-1', plan: out.tests[0]!.plan, events: journal }, { file: join(dir, 'captured.test.orch') });
  return { ran, captured };
}
