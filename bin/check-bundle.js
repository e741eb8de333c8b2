// Runs the `orch check` bundle (dist/bundle/check.cjs, cli/bundle-check.mjs) as a script compiled
// with V8's code cache: the bytecode of every function the previous check ran, so this one neither
// parses the megabyte of JavaScript again nor compiles those functions lazily (~5–10 % of a
// 10,000-step check; Node 20 has no module.enableCompileCache, which does not apply to vm scripts
// on later versions either). The cache is written after a check, so it holds what a check runs.
//
// The cache is only ever a speed-up: one that is missing, unreadable, from another bundle or Node
// (its header), or that V8 rejects (another V8 or other flags) is ignored, and a new one is written
// when the check is done — beside the bundle when that folder is writable, else in the user's
// cache folder. A failed write is ignored too.
//
// One tier-up flag is set before the compile (`CHECK_TIERING`): a check is a short process on which
// TurboFan spends more CPU than the check's own thread — some 230 functions optimized on the
// platform's background threads (~0.38 s of CPU in a 10k-step check whose main thread runs
// ~0.26 s), and on a machine of two cores those threads take the cores from the main thread. A
// smaller inlining budget makes each optimization cheaper (~0.1 s of that CPU) with the main
// thread as fast (docs/performance.md, "TurboFan's background CPU"). A larger interrupt budget
// saved more CPU but slowed the main thread; young-generation flags measured no gain, and GC-mode
// flags set after start-up (--single-threaded-gc, --minor-mc) abort Node 20
// (docs/performance.md, "`orch check`'s cold start").
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * V8's tier-up for a check (see above): a sixth of TurboFan's cumulative inlining budget (920 on
 * Node 20), unless this process was started with its own.
 */
const CHECK_TIERING = ['--max-inlined-bytecode-size-cumulative=150'];

function setCheckTiering() {
  const own = process.execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS ?? '');
  for (const flag of CHECK_TIERING) {
    const name = flag.slice(2, flag.indexOf('=')).replace(/-/g, '[-_]');
    if (!new RegExp(`(^|\\s)--${name}(=|\\s|$)`).test(own)) v8.setFlagsFromString(flag);
  }
}

/** The first line of a bundle that carries its digest (cli/bundle-check.mjs writes it). */
const DIGEST_LINE = '// orch-check-bundle ';

/** The cache file's first line: the format, this Node, and the bundle's contents it was made from. */
function header(source) {
  const end = source.indexOf('\n');
  const digest = source.startsWith(DIGEST_LINE) && end > 0 ? source.slice(DIGEST_LINE.length, end) : createHash('sha256').update(source).digest('hex');
  return `orch-check-code-cache 1 ${process.version} ${process.arch} ${digest}\n`;
}

/** Where caches may be, in the order they are tried: beside the bundle, then the user's cache folder. */
function cacheFiles(bundle) {
  const name = `check-${process.version}-${process.arch}.code-cache`;
  const files = [join(dirname(bundle), name)];
  const base = process.env.XDG_CACHE_HOME || (process.platform === 'win32' ? process.env.LOCALAPPDATA : undefined) || join(homedir(), '.cache');
  if (base) {
    const place = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
    files.push(join(base, 'orch', `check-${place}-${process.version}-${process.arch}.code-cache`));
  }
  return files;
}

/** The cached data after `head` in the first of `files` that starts with it. */
function readCache(files, head) {
  const mark = Buffer.from(head);
  for (const file of files) {
    try {
      const bytes = readFileSync(file);
      if (bytes.length > mark.length && bytes.subarray(0, mark.length).equals(mark)) return bytes.subarray(mark.length);
    } catch {
      // none here
    }
  }
  return undefined;
}

/** Writes `data` under `head` to the first of `files` that takes it, whole or not at all. */
function writeCache(files, head, data) {
  for (const file of files) {
    const temp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(temp, Buffer.concat([Buffer.from(head), data]));
      renameSync(temp, file);
      return;
    } catch {
      rmSync(temp, { force: true });
    }
  }
}

/**
 * Compiles and runs the bundle at `bundle` (a path), with the code cache when there is a good one.
 * Returns its `main`, and `done`: to be called when the check is over, it writes a new cache when
 * this run had none it could use. Throws when the bundle cannot be read or run (the caller then
 * uses the compiled tree).
 */
export function loadCheckBundle(bundle) {
  setCheckTiering();
  const source = readFileSync(bundle, 'utf8');
  const head = header(source);
  const files = cacheFiles(bundle);
  const cachedData = readCache(files, head);
  // The CommonJS wrapper, as Node's loader would make it; one line, so the bundle's lines keep their numbers.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  const fresh = cachedData === undefined || script.cachedDataRejected === true;
  return {
    main: module.exports.main,
    done() {
      if (!fresh) return;
      try {
        writeCache(files, head, script.createCachedData());
      } catch {
        // no cache this time
      }
    },
  };
}
