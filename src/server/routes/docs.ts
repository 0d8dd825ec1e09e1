// /openapi.json generated from the route schemas, Swagger UI at /docs and ReDoc at /redoc, both
// served from their packages, so both work with no internet. /redoc's page loads a small script of
// ours that loads ReDoc's standalone bundle (ours, or REDOC_SCRIPT_URL when set) and, should that
// fail or hang, sends the reader to /docs: never a blank page.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../../version.js';

/** ReDoc's standalone bundle, served from the `redoc` package; REDOC_SCRIPT_URL points elsewhere. */
export const REDOC_BUNDLE_PATH = '/redoc/redoc.standalone.js';
const DEFAULT_REDOC_SCRIPT = REDOC_BUNDLE_PATH;

let redocBundle: Promise<Buffer> | undefined;

/** Read once, on first use: about 1 MB that most gateways never serve. */
function readRedocBundle(): Promise<Buffer> {
  if (redocBundle === undefined) {
    const file = createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js');
    redocBundle = readFile(file);
    redocBundle.catch(() => {
      redocBundle = undefined;
    });
  }
  return redocBundle;
}

/** The page's only script, served by the gateway itself. */
export const REDOC_LOADER_PATH = '/redoc/loader.js';

/** How long ReDoc's script may take before the offline page is shown instead. */
const REDOC_LOAD_TIMEOUT_MS = 8000;

const REDOC_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ai-proxy API (ReDoc)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0;font-family:system-ui,sans-serif}#redoc-status{padding:1rem 1.5rem;color:#444}</style></head>
<body>
<p id="redoc-status">Loading ReDoc… The same documentation is at <a href="/docs">/docs</a> (Swagger UI, works offline).</p>
<noscript><p>ReDoc needs JavaScript. The API document is <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<div id="redoc"></div>
<script src="${REDOC_LOADER_PATH}"></script>
</body>
</html>
`;

/**
 * Loads ReDoc from `scriptUrl` and renders /openapi.json; if the script fails or takes longer than
 * REDOC_LOAD_TIMEOUT_MS, says so and moves on to /docs (Swagger UI, served from our packages).
 */
function redocLoader(scriptUrl: string): string {
  return `// ai-proxy: loads ReDoc, or falls back to the offline Swagger UI at /docs.
(function () {
  var status = document.getElementById('redoc-status');
  var done = false;
  function offline() {
    if (done) return;
    done = true;
    status.textContent = 'ReDoc could not be loaded from ' + ${JSON.stringify(scriptUrl)} +
      '. Opening the same documentation at /docs (Swagger UI, served by this gateway)…';
    setTimeout(function () { location.replace('/docs'); }, 1500);
  }
  var timer = setTimeout(offline, ${REDOC_LOAD_TIMEOUT_MS});
  var script = document.createElement('script');
  script.src = ${JSON.stringify(scriptUrl)};
  script.onerror = function () { clearTimeout(timer); offline(); };
  script.onload = function () {
    clearTimeout(timer);
    if (done) return;
    if (typeof Redoc === 'undefined') { offline(); return; }
    done = true;
    status.remove();
    Redoc.init('/openapi.json', {}, document.getElementById('redoc'));
  };
  document.head.appendChild(script);
})();
`;
}

export async function registerDocs(app: FastifyInstance, redocScript = DEFAULT_REDOC_SCRIPT): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ai-proxy',
        version: VERSION,
        description: 'OpenAI-compatible gateway to many model providers.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A client key of this gateway' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: false });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/redoc', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(REDOC_PAGE),
  );
  app.get(REDOC_BUNDLE_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=86400')
      .send(await readRedocBundle()),
  );
  const loader = redocLoader(redocScript);
  app.get(REDOC_LOADER_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(loader),
  );
}
