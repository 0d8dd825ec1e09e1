// GET /ui: the web console, a static bundle built by `npm run build` (scripts/build-console.mjs)
// into dist/console and served from the package, so it works with no internet. The page holds no
// data: everything it shows comes from /ui/api (admin only, console-api.ts) after the login.
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Runtime } from '../runtime.js';
import { registerConsoleApi } from './console-api.js';

/** dist/console from both src/server/routes (tests, tsx) and dist/server/routes (the package). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

// uPlot sizes its canvas with style attributes, hence 'unsafe-inline' for styles only.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ai-proxy console</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto">
<h1>The console is not built</h1><p>Run <code>npm run build</code> (it bundles the console into
<code>dist/console</code>), then reload this page.</p></body></html>`;

async function sendFile(reply: FastifyReply, name: string): Promise<FastifyReply> {
  let body: Buffer;
  try {
    body = await readFile(join(CONSOLE_DIR, name));
  } catch {
    if (name === 'index.html')
      return reply.code(503).headers(SECURITY_HEADERS).type(TYPES['.html']!).send(NOT_BUILT);
    return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
  }
  return reply
    .headers(SECURITY_HEADERS)
    .header('cache-control', 'no-cache')
    .type(TYPES[extname(name)] ?? 'application/octet-stream')
    .send(body);
}

export function registerConsole(app: FastifyInstance, runtime: Runtime): void {
  const page = { schema: { hide: true } };
  app.get('/ui', page, (_request, reply) => sendFile(reply, 'index.html'));
  app.get('/ui/', page, (_request, reply) => sendFile(reply, 'index.html'));
  app.get<{ Params: { name: string } }>('/ui/assets/:name', page, (request, reply) => {
    // Plain file names only: no path can leave the bundle's folder.
    const { name } = request.params;
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9]+)+$/.test(name) || name === 'index.html') {
      return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    }
    return sendFile(reply, name);
  });
  registerConsoleApi(app, runtime);
}
