/**
 * `orch init [DIR]` — scaffolds a small, runnable project. It never overwrites a file: if any file
 * it would create already exists it writes nothing and exits 2. An existing `.gitignore` is kept
 * and only gets the `.orch/` line appended (that is where run journals live). An existing
 * `package.json` (a project that installed Orch as a package) gets its `allowScripts` entry for
 * better-sqlite3, unless it already decides on it.
 */
import { existsSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { makeFolders } from '../../runtime/index.js';
import { CliError } from '../errors.js';

const PLAN_FILE = 'hello.orch';

/** The scaffold, by path relative to the project directory. */
const FILES: readonly { readonly path: string; readonly text: string }[] = [
  {
    path: PLAN_FILE,
    text: `/// Starter plan created by \`orch init\`: greets someone and checks the greeting.
module hello

/// Builds a greeting. The handler is a plain ES module in ./handlers.
capability greet {
  kind tool
  input { name: string }
  output { message: string, length: int }
  handler "./handlers/greet.mjs#greet"
  timeout 5s
  retry 2 backoff exponential 200ms max 2s
  cost 0.0001usd
  latency 50ms
  requires compute
  idempotent true
}

/// Turns a greeting into a banner line.
capability shout {
  kind tool
  input { text: string }
  output { banner: string }
  handler "./handlers/greet.mjs#shout"
  timeout 5s
  latency 20ms
  requires compute
  idempotent true
}

/// The machine you run \`orch run\` on.
resource this_machine {
  kind local_device
  provides compute
  concurrency 4
}

policy starter {
  strategy cost
  budget cost <= 0.01usd
  budget duration <= 1m
}

guardrail short_greeting {
  severity blocking
  category operational
  check say_hello where output.length <= 200
  message "Greetings must stay under 200 characters"
}

plan hello {
  goal "Greet someone by name"
  input { name: string = "world" }
  policy starter
  guardrails short_greeting

  step say_hello = greet(name: input.name)
  step banner = shout(text: say_hello.output.message)

  success "greeted": say_hello.completed
  output { message: say_hello.output.message, banner: banner.output.banner }
}

/// Checked by \`orch verify\` over many simulated runs.
invariant banner_after_greeting { always banner.started implies say_hello.completed }

simulate greet {
  output { message: "Hello, world!", length: 5..60 }
  fail 5%
  latency 10ms..100ms
}

trigger by_hand {
  manual
  run hello
}
`,
  },
  {
    path: 'handlers/greet.mjs',
    text: `// Capability handlers: export async function NAME(input, ctx) and return the capability's output.
// Keep them deterministic and idempotent where the capability says \`idempotent true\`.

export async function greet(input) {
  const message = \`Hello, \${input.name}!\`;
  return { message, length: message.length };
}

export async function shout(input) {
  return { banner: \`*** \${input.text.toUpperCase()} ***\` };
}
`,
  },
  {
    path: 'input.json',
    text: `${JSON.stringify({ name: 'Ada' }, null, 2)}\n`,
  },
  {
    path: 'orch.config.json',
    // Values for secret("NAME") when the environment variable NAME is not set. (Policy hooks
    // need code: rename it to orch.config.mjs and export preExecution/postExecution.)
    text: `${JSON.stringify({ secrets: {} }, null, 2)}\n`,
  },
];

const GITIGNORE = '.gitignore';
const PACKAGE_JSON = 'package.json';
/** The journal's SQLite driver on Node 20 (runtime/backend/sqlite/driver.ts): a native module. */
const NATIVE_DRIVER = 'better-sqlite3';
const GITIGNORE_LINE = '.orch/';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a starter Orch project (a plan, a handler, input.json, orch.config.json, .gitignore)')
    .argument('[dir]', 'directory to create the project in (created if missing)', '.')
    .addHelpText('after', '\nNever overwrites files. Exit codes: 0 created, 2 a file already exists, DIR is a file, or I/O error.\n')
    .action((dir: string) => {
      process.stdout.write(scaffold(dir));
    });
}

/** Writes the scaffold into `dir` and returns the message to print. */
export function scaffold(dir: string): string {
  const root = path.resolve(dir);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw new CliError(`'${dir}' exists and is not a directory`, 2);
  }
  const clashes = FILES.map((f) => f.path).filter((p) => existsSync(path.join(root, p)));
  if (clashes.length > 0) {
    throw new CliError(`refusing to overwrite existing file(s) in '${dir}': ${clashes.join(', ')}`, 2);
  }
  try {
    for (const file of FILES) {
      const target = path.join(root, file.path);
      makeFolders(path.dirname(target));
      writeFileSync(target, file.text, { flag: 'wx' });
    }
    const notes = [ensureGitignore(path.join(root, GITIGNORE)), approveNativeDriver(path.join(root, PACKAGE_JSON))];
    return nextSteps(dir, notes.filter((n): n is string => n !== undefined));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot create the project in '${dir}': ${(err as Error).message}`, 2);
  }
}

/** Creates `.gitignore`, or appends the journal folder to an existing one that lacks it. */
function ensureGitignore(file: string): string {
  if (!existsSync(file)) {
    writeFileSync(file, `# Orch run journals\n${GITIGNORE_LINE}\n`, { flag: 'wx' });
    return `${GITIGNORE} (new)`;
  }
  const text = readFileSync(file, 'utf8');
  if (text.split(/\r?\n/).some((line) => line.trim() === GITIGNORE_LINE || line.trim() === '.orch')) {
    return `${GITIGNORE} (kept; already ignores ${GITIGNORE_LINE})`;
  }
  appendFileSync(file, `${text.endsWith('\n') || text === '' ? '' : '\n'}${GITIGNORE_LINE}\n`);
  return `${GITIGNORE} (kept; added ${GITIGNORE_LINE})`;
}

/**
 * npm 11 warns about every dependency install script the project's package.json does not approve
 * in `allowScripts` (its `--strict-allow-scripts` refuses the install, and its docs announce such
 * scripts blocked by default); better-sqlite3's builds the driver the journal needs on Node 20.
 * Approved by name, so that an upgrade keeps it; an entry the user wrote (true or false, by name
 * or pinned to a version) is theirs and stays.
 */
function approveNativeDriver(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  let pkg: { allowScripts?: Record<string, unknown> } & Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as typeof pkg;
  } catch {
    return `${PACKAGE_JSON} (kept; not valid JSON, so ${NATIVE_DRIVER}'s install script is not approved there)`;
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) return undefined;
  const allow = pkg.allowScripts;
  if (allow && typeof allow === 'object' && Object.keys(allow).some((k) => k === NATIVE_DRIVER || k.startsWith(`${NATIVE_DRIVER}@`))) {
    return `${PACKAGE_JSON} (kept; allowScripts already decides on ${NATIVE_DRIVER})`;
  }
  pkg.allowScripts = { ...(allow && typeof allow === 'object' ? allow : {}), [NATIVE_DRIVER]: true };
  const indent = /^[ \t]+(?=")/m.exec(text)?.[0] ?? '  ';
  writeFileSync(file, `${JSON.stringify(pkg, null, indent)}\n`);
  return `${PACKAGE_JSON} (kept; allowScripts approves ${NATIVE_DRIVER}'s native build, which the journal needs on Node 20)`;
}

function nextSteps(dir: string, notes: readonly string[]): string {
  const where = dir === '.' ? 'the current directory' : dir;
  const cd = dir === '.' ? [] : [`  cd ${/\s/.test(dir) ? JSON.stringify(dir) : dir}`];
  return [
    `Created an Orch project in ${where}:`,
    ...FILES.map((f) => `  ${f.path}`),
    ...notes.map((n) => `  ${n}`),
    '',
    'Next steps:',
    ...cd,
    `  orch check ${PLAN_FILE}                      # type-check, placement, guardrails`,
    `  orch preview ${PLAN_FILE}                    # what will happen, where, at what cost`,
    `  orch run ${PLAN_FILE} --input @input.json    # run it (journal in .orch/runs.db)`,
    `  orch verify ${PLAN_FILE}                     # explore simulated runs against the invariant`,
    '',
  ].join('\n');
}
