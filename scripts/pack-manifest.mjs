#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack, postpack): the package.json inside the package has no
// `prepare` script.
//
// `prepare` builds dist/ for whoever installs this repository (`npm ci` in a clone, a git
// dependency). In the packed package dist/ is already built, and npm 11's install-script policy
// lists a tarball dependency's `prepare` among the scripts a user must approve — though npm never
// runs it for a tarball — and `--strict-allow-scripts` fails the install over it. So prepack
// builds (npm reads the manifest again after prepack, and would no longer see `prepare`), then
// writes the manifest without it, keeping the original beside it; postpack puts it back.
//
//   node scripts/pack-manifest.mjs strip|restore
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const manifest = fileURLToPath(new URL('../package.json', import.meta.url));
/** The manifest as it was before `strip`, until `restore` (a pack that died in between leaves it). */
const kept = fileURLToPath(new URL('../package.json.before-pack', import.meta.url));

function restore() {
  if (existsSync(kept)) renameSync(kept, manifest);
}

function strip() {
  restore();
  const text = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  if (!pkg.scripts?.prepare) return;
  copyFileSync(manifest, kept);
  delete pkg.scripts.prepare;
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
}

const action = process.argv[2];
if (action === 'strip') strip();
else if (action === 'restore') restore();
else {
  process.stderr.write('usage: node scripts/pack-manifest.mjs strip|restore\n');
  process.exit(2);
}
