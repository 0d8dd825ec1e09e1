// GET /health: liveness and readiness as JSON, public, without a secret: version, uptime, and for
// each provider whether it is configured, its protocol and how many keys it has (never the keys).
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/types.js';
import { VERSION } from '../../version.js';
import type { Runtime } from '../runtime.js';

export interface ProviderSummary {
  name: string;
  configured: boolean;
  protocol: string;
  keys: number;
  default_model: string | null;
}

export function providerSummaries(config: Config): ProviderSummary[] {
  return [...config.providers.values()].map((provider) => ({
    name: provider.name,
    configured: provider.configured,
    protocol: provider.protocol,
    keys: provider.keys.length,
    default_model: provider.defaultModel ?? null,
  }));
}

export function healthReport(runtime: Runtime) {
  const { config } = runtime.state;
  const providers = providerSummaries(config);
  const catalog = runtime.catalog.health();
  // A catalog-only gateway (seed 001) is ready once it has a list to route by.
  const ready = providers.some((provider) => provider.configured) || (catalog?.models ?? 0) > 0;
  return {
    status: ready ? 'ok' : 'degraded',
    ready,
    version: VERSION,
    uptime_seconds: Math.round((Date.now() - runtime.startedAt) / 1000),
    server_id: runtime.identity.server_id,
    active_requests: runtime.activeRequests,
    config_loaded_at: runtime.state.loadedAt.toISOString(),
    // model_list: the provider's own model list for /v1/models (null when not fetched); a stale or
    // failed list never stops the provider from routing.
    providers: Object.fromEntries(
      providers.map(({ name, ...rest }) => [
        name,
        { ...rest, model_list: runtime.providerModels.health(name) },
      ]),
    ),
    catalog,
  };
}

export function registerHealthRoute(app: FastifyInstance, runtime: Runtime): void {
  app.get('/health', { schema: { summary: 'Liveness and readiness', tags: ['Gateway'] } }, async () =>
    healthReport(runtime),
  );
}
