// Builds dist/ when any source file is newer than the last build, so `npm start` and `npm test`
// work on a fresh checkout without a separate build step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const stamp = 'dist/.build-stamp';

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

const sourcesChanged =
  !existsSync(stamp) ||
  newestMtime('src') > statSync(stamp).mtimeMs ||
  statSync('package.json').mtimeMs > statSync(stamp).mtimeMs;

if (sourcesChanged) {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  execFileSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(stamp)}, '')`]);
}
