// Bundles the dashboard (serve/ui/main.ts → dist/ui/app.js) and its stylesheet (the pictures'
// colours + serve/ui/style.css → dist/ui/app.css) for the browser: one file each, no CDN, so
// the dashboard works offline. `npm run build` runs this after tsc (it reads the compiled
// picture stylesheet from dist/).
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const path = (p) => fileURLToPath(new URL(p, ROOT));

export async function buildUi() {
  mkdirSync(path('dist/ui'), { recursive: true });
  await build({
    entryPoints: [path('serve/ui/main.ts')],
    outfile: path('dist/ui/app.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const { PICTURE_CSS } = await import(pathToFileURL(path('dist/serve/render/picture-style.js')).href);
  writeFileSync(path('dist/ui/app.css'), `${PICTURE_CSS}\n${readFileSync(path('serve/ui/style.css'), 'utf8')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await buildUi();
