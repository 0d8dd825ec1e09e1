// Worker threads run compiled JavaScript: the script beside the calling module in dist/. Run from
// TypeScript sources (the tests) there is no such sibling, and callers do the work in their own
// thread instead, unless they ask for the build's copy: it is used when no source file is newer
// than it (`npm test` builds first), so a stale build never runs against newer sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/**
 * `script` (e.g. './ingest-worker.js') next to `moduleUrl` (the caller's import.meta.url) when the
 * caller is compiled; from sources, the build's copy when `fromSources` allows it and it is fresh.
 */
export function compiledWorker(
  moduleUrl: string,
  script: string,
  fromSources: 'build-when-fresh' | 'none' = 'none',
): URL | undefined {
  if (!moduleUrl.startsWith('file:')) return undefined;
  if (!moduleUrl.endsWith('.ts')) {
    const sibling = new URL(script, moduleUrl);
    return existsSync(fileURLToPath(sibling)) ? sibling : undefined;
  }
  const at = moduleUrl.lastIndexOf('/src/');
  if (fromSources === 'none' || at === -1) return undefined;
  const built = new URL(script, `${moduleUrl.slice(0, at)}/dist/${moduleUrl.slice(at + 5)}`);
  const builtPath = fileURLToPath(built);
  if (!existsSync(builtPath)) return undefined;
  const sources = fileURLToPath(moduleUrl.slice(0, at + 5));
  return newestSource(sources) > statSync(builtPath).mtimeMs ? undefined : built;
}
