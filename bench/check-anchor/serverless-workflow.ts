/**
 * The anchor of `npm run bench -- check`: the CNCF Serverless Workflow SDK reading a workflow the
 * way its README shows — `Classes.Workflow.deserialize` parses the YAML, validates it against the
 * specification's JSON Schema (ajv) and builds the typed object tree. Run as a process of its own
 * (`node serverless-workflow.js FILE`), so that its figure, like `orch check`'s, includes Node's
 * start-up and the loading of its library.
 *
 * `generateWorkflow(n)` is check.ts's plan of `n` steps as a Serverless Workflow: the two
 * capabilities are `use.functions`, each step a `call` task with its arguments as runtime
 * expressions over the earlier task's output, the odd steps guarded by an `if`. The workflow
 * language has no edge across lanes (its tasks run in order), so the plan's every-tenth-step
 * `after` has no counterpart; the schema still checks every task.
 */
import { readFileSync } from 'node:fs';
import { argv } from 'node:process';
import { pathToFileURL } from 'node:url';
// The package is CommonJS (a UMD bundle): its exports come as the default import.
import sdk from '@serverlessworkflow/sdk';

export function generateWorkflow(n: number): string {
  const lines: string[] = [
    'document:',
    '  dsl: 1.0.0',
    '  namespace: bench',
    '  name: big',
    '  version: 1.0.0',
    'input:',
    '  schema:',
    '    format: json',
    '    document: { type: object, properties: { root: { type: string } }, required: [root] }',
    'use:',
    '  functions:',
    '    fetch:',
    '      call: http',
    '      with: { method: get, endpoint: "https://edge.example/fetch" }',
    '      timeout: { after: { milliseconds: 200 } }',
    '    score:',
    '      call: http',
    '      with: { method: post, endpoint: "https://cloud.example/score" }',
    '      timeout: { after: { seconds: 1 } }',
    'do:',
  ];
  const lane = 50;
  for (let i = 0; i < n; i++) {
    const prev = i % lane === 0 ? null : i - 1;
    if (i % 2 === 0) {
      const url = prev === null ? '${ .root }' : `\${ $context.s${prev}.value | tostring }`;
      lines.push(`  - s${i}:`, '      call: fetch', `      with: { url: "${url}" }`, `      export: { as: "\${ $context + { s${i}: . } }" }`);
    } else {
      const from = `s${prev ?? i - 1}`;
      lines.push(
        `  - s${i}:`,
        `      if: "\${ $context.${from}.size > 0 }"`,
        '      call: score',
        `      with: { text: "\${ $context.${from}.body }", weight: 1 }`,
        `      export: { as: "\${ $context + { s${i}: . } }" }`,
      );
    }
  }
  lines.push('output:', '  as: { done: true }');
  return `${lines.join('\n')}\n`;
}

// As a process: deserialize (parse + schema-validate + hydrate) the file named on the command line.
if (import.meta.url === pathToFileURL(argv[1] ?? '').href) {
  const workflow = sdk.Classes.Workflow.deserialize(readFileSync(argv[2]!, 'utf8'));
  process.stdout.write(`${workflow.do.length} tasks\n`);
}
