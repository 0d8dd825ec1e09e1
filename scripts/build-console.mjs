// Bundles the web console (src/console: preact + uPlot) into dist/console with esbuild: one ES
// module, one stylesheet and the page. `npm run build` runs it after tsc; the gateway serves the
// folder at /ui, so the console needs no internet.
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { build } from 'esbuild';

const out = 'dist/console';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { console: 'src/console/main.tsx', 'console-style': 'src/console/console.css' },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
// One name per kind: the stylesheet entry's own output is console-style.css.
copyFileSync(`${out}/console-style.css`, `${out}/console.css`);
rmSync(`${out}/console-style.css`);
copyFileSync('src/console/index.html', `${out}/index.html`);
const size = (name) => `${(statSync(`${out}/${name}`).size / 1024).toFixed(1)} KB`;
console.log(`console: ${out}/console.js ${size('console.js')}, console.css ${size('console.css')}`);
