// GET /: a public status and info page. It shows what is configured, never a key.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listModels } from '../../routing/model-list.js';
import { VERSION } from '../../version.js';
import type { Runtime } from '../runtime.js';
import { providerSummaries } from './health.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${days}d ${hours}h ${minutes}m ${seconds % 60}s`;
}

/** A Host header worth echoing: a host name or address and an optional port, nothing else. */
const SANE_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The base URL a client on the reader's side would use: the Host the browser sent (so a gateway
 * behind a name or a proxy shows that name), else the address and port this connection reached.
 */
export function clientBaseUrl(request: FastifyRequest, listenPort: number): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const scheme = forwarded === 'https' ? 'https' : 'http';
  const host = request.headers.host;
  if (host !== undefined && SANE_HOST.test(host)) return `${scheme}://${host}/v1`;
  const local = request.socket.localAddress ?? '127.0.0.1';
  const address = local.startsWith('::ffff:') ? local.slice(7) : local;
  return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${listenPort}/v1`;
}

export function renderStatusPage(runtime: Runtime, baseUrl: string): string {
  const { config } = runtime.state;
  const uptime = Math.round((Date.now() - runtime.startedAt) / 1000);
  const providerRows = providerSummaries(config)
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.name)}</td><td>${p.configured ? '<span class="ok">configured</span>' : '<span class="off">not configured</span>'}</td><td>${escapeHtml(p.protocol)}</td><td>${p.keys}</td><td>${escapeHtml(p.default_model ?? '')}</td></tr>`,
    )
    .join('\n');
  const modelRows = listModels(config, 0, runtime.catalog.listed())
    .map(
      (m) =>
        `<tr><td><code>${escapeHtml(m.id)}</code></td><td>${escapeHtml(m.owned_by)}</td><td>${m.source}</td></tr>`,
    )
    .join('\n');
  const catalog = runtime.catalog.health();
  const catalogNote =
    catalog === null
      ? ''
      : `<p>Model catalog <code>${escapeHtml(catalog.source)}</code>: ${catalog.state}, ${catalog.models} models${catalog.age_seconds === null ? '' : `, fetched ${catalog.age_seconds} s ago`}${catalog.last_error === null ? '' : ` (last refresh failed: ${escapeHtml(catalog.last_error)})`}.</p>`;
  const authNote = runtime.state.auth.open
    ? '<p class="warn">No client key is configured: this gateway is open to anyone who can reach it on loopback.</p>'
    : `<p>Client keys required (${runtime.state.auth.size} configured): send <code>Authorization: Bearer KEY</code> or <code>x-api-key: KEY</code>.</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ai-proxy ${escapeHtml(VERSION)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
code{background:#f4f4f4;padding:0 .2rem}.warn{color:#a40000;font-weight:600}nav a{margin-right:1rem}
.ok,.off{white-space:nowrap}.ok::before,.off::before{content:"";display:inline-block;width:.6em;height:.6em;border-radius:50%;margin-right:.4em;vertical-align:middle}
.ok{color:#1a7f37}.ok::before{background:#1a7f37}.off{color:#6e6e73}.off::before{border:1px solid #6e6e73;box-sizing:border-box}
</style>
</head>
<body>
<h1>ai-proxy</h1>
<p>An OpenAI-compatible gateway. Version <strong>${escapeHtml(VERSION)}</strong>, up ${formatUptime(uptime)}, server <code>${escapeHtml(runtime.identity.server_id)}</code>.</p>
<nav><a href="/docs">API docs (Swagger UI)</a><a href="/redoc">ReDoc</a><a href="/openapi.json">OpenAPI JSON</a><a href="/health">Health</a></nav>
${authNote}
<p>Point any OpenAI client at <code>${escapeHtml(baseUrl)}</code>.</p>
<h2>Providers</h2>
<table><thead><tr><th>Provider</th><th>Status</th><th>Protocol</th><th>Keys</th><th>Default model</th></tr></thead>
<tbody>
${providerRows}
</tbody></table>
<h2>Models</h2>
${catalogNote}
<table><thead><tr><th>Model</th><th>Owner</th><th>Source</th></tr></thead>
<tbody>
${modelRows || '<tr><td colspan="3">No aliases or provider models configured; any <code>provider:model</code> of a configured provider works.</td></tr>'}
</tbody></table>
</body>
</html>
`;
}

export function registerStatusPage(app: FastifyInstance, runtime: Runtime): void {
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    // The port actually listened on: the configured one may be 0 ("any free port").
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : runtime.state.config.port;
    return reply
      .type('text/html; charset=utf-8')
      .send(renderStatusPage(runtime, clientBaseUrl(request, port)));
  });
}
